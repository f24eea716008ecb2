using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Speculative decoding as a user sets it up: kilnctl names a draft model, the server checks its
/// tokenizer against the deployed model's, and the replica (a real engine process) drafts with it.
/// </summary>
public class SpeculationEndToEndTests
{
    [SharedFact]
    public async Task A_draft_model_is_checked_at_create_and_its_replica_speculates_exactly()
    {
        using var server = await KilnServer.StartAsync();
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, Kilnctl.NewConfigDir());
        await ctl.OkAsync("import", "model", "stories", "--from", SharedFiles.Model("stories260K.gguf"));
        await ctl.OkAsync("import", "model", "stories-draft", "--from", SharedFiles.Model("stories260K.gguf"));
        await ctl.OkAsync("import", "model", "tiny", "--from", SharedFiles.Model("TinyStories-656K-Q8_0.gguf"));

        var otherVocab = await ctl.RunAsync("create", "deployment", "stories", "--draft-model", "tiny", "--draft-token-count", "4");
        Assert.Equal(1, otherVocab.ExitCode);
        Assert.Contains("accounts/default/models/tiny cannot draft for accounts/default/models/stories", otherVocab.Stderr);
        Assert.Contains("vocabulary has 2048 tokens, the deployed model's has 512", otherVocab.Stderr);

        var noCount = await ctl.RunAsync("create", "deployment", "stories", "--ngram-speculation-length", "2");
        Assert.Equal(1, noCount.ExitCode);
        Assert.Contains("draftTokenCount", noCount.Stderr);

        var badFlag = await ctl.RunAsync("create", "deployment", "stories", "--draft-token-count", "many");
        Assert.Equal(2, badFlag.ExitCode);
        Assert.Contains("--draft-token-count", badFlag.Stderr);

        var created = await ctl.OkAsync("create", "deployment", "stories", "--deployment-id", "spec", "--draft-model", "stories-draft",
            "--draft-token-count", "3", "--min-replica-count", "1", "--wait", "--wait-timeout", "90s");
        Assert.Contains("READY", created);
        Assert.Contains("accounts/default/models/stories-draft", created);

        var deployment = JsonNode.Parse(await ctl.OkAsync("get", "deployment", "spec", "-o", "json"))!;
        Assert.Equal(3, (int?)deployment["draftTokenCount"]);
        var port = (int)deployment["replicas"]![0]!["port"]!;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var r = await http.PostAsync("v1/completions", new StringContent(
            """{"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0}""", System.Text.Encoding.UTF8, "application/json"));
        using (var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync()))
        {
            // llama.cpp's greedy continuation, drafted by the same model: every draft is kept.
            Assert.StartsWith(", there was a little girl named Lily.", doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            Assert.Equal(12, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }
        var metrics = await http.GetStringAsync("metrics");
        var proposed = Metric(metrics, "kiln_spec_decode_num_draft_tokens_total");
        Assert.True(proposed > 0, metrics);
        Assert.Equal(proposed, Metric(metrics, "kiln_spec_decode_num_accepted_tokens_total"));
        Assert.Equal(1.0, Metric(metrics, "kiln_spec_decode_acceptance_rate"));
    }

    private static double Metric(string text, string name) =>
        double.Parse(text.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..],
            System.Globalization.CultureInfo.InvariantCulture);
}
