using System.Text.Json;

namespace Kiln.Engine.Tests.Models;

/// <summary>One reference file of teacher-forced logits and greedy continuations.</summary>
public sealed record LogitGolden(
    string Model,
    string ModelSha256,
    double LogitAbs,
    double LogsumexpAbs,
    double? LogitCaseMeanAbs,
    IReadOnlyList<LogitGoldenCase> Cases)
{
    public static LogitGolden Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var tol = root.GetProperty("tolerance");
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new LogitGoldenCase(
            c.GetProperty("prompt").GetString()!,
            Ints(c.GetProperty("prompt_tokens")),
            Ints(c.GetProperty("greedy_tokens")),
            c.GetProperty("greedy_text").GetString()!,
            c.TryGetProperty("greedy_prefix_float_engine", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : null,
            c.GetProperty("positions").EnumerateArray().Select(pos => new LogitPosition(
                pos.GetProperty("top").EnumerateArray().Select(t => (t[0].GetInt32(), t[1].GetDouble())).ToArray(),
                pos.GetProperty("logsumexp").GetDouble())).ToArray())).ToArray();
        return new LogitGolden(
            root.GetProperty("model").GetString()!,
            root.GetProperty("model_sha256").GetString()!,
            tol.GetProperty("logit_abs").GetDouble(),
            tol.GetProperty("logsumexp_abs").GetDouble(),
            tol.TryGetProperty("logit_case_mean_abs", out var m) ? m.GetDouble() : null,
            cases);
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}

public sealed record LogitGoldenCase(
    string Prompt,
    int[] PromptTokens,
    int[] GreedyTokens,
    string GreedyText,
    int? GreedyPrefixFloatEngine,
    LogitPosition[] Positions);

public sealed record LogitPosition((int Id, double Logit)[] Top, double LogSumExp);
