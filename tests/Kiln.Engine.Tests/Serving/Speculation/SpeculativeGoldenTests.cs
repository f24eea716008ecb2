using Xunit.Abstractions;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Quantization;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving;
using Kiln.Engine.Serving.Speculation;
using Kiln.Engine.Tensors;
using Kiln.Engine.Tests.Lora;
using Kiln.Engine.Tests.Models;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Serving.Speculation;

/// <summary>
/// On the shared real models, greedy decoding with speculation reproduces llama.cpp's greedy
/// continuations token for token, with every golden case decoding in one continuous batch; drafts
/// come from n-grams, from the same model (every draft is kept) or from a random model over the same
/// vocabulary (nearly every draft is replaced).
/// </summary>
public class SpeculativeGoldenTests(ITestOutputHelper output)
{
    private const int Context = 512;

    public static TheoryData<string, string> Cases() => new()
    {
        { "stories260K.gguf", "ngram" },
        { "stories260K.gguf", "self-draft" },
        { "stories260K.gguf", "random-draft" },
        { "TinyStories-656K-Q8_0.gguf", "ngram" },
        { "TinyStories-656K-Q8_0.gguf", "self-draft" },
        { "TinyStories-656K-Q8_0.gguf", "random-draft" },
        { "synth-15m-q4_0.gguf", "ngram" },
    };

    private static LlamaModel Open(string path, int slots) =>
        LlamaModel.Load(path, new ModelOptions { MaxSlots = slots, ContextLength = Context, KvCacheType = KvCacheType.F32, Threads = 2 });

    /// <summary>
    /// A random F32 llama of a few layers over <paramref name="vocabModel"/>'s tokenizer. The same
    /// seed always writes the same file, so one copy serves every run (moved into place whole).
    /// </summary>
    internal static string RandomDraft(string vocabModel)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kiln-spec-draft-seed5-{vocabModel}");
        lock (typeof(SpeculativeGoldenTests))
        {
            if (!File.Exists(path))
            {
                var temp = $"{path}.{Environment.ProcessId}.tmp";
                SyntheticModel.Write(new ModelShape("draft", 64, 2, 4, 4, 128, Context), SharedFiles.Model(vocabModel), GgmlType.F32, temp, seed: 5);
                File.Move(temp, path, overwrite: true);
            }
        }
        return path;
    }

    [SharedTheory]
    [MemberData(nameof(Cases))]
    public async Task Greedy_speculation_reproduces_the_golden_continuations(string model, string mode)
    {
        var golden = LogitGolden.Load(SharedFiles.GoldenFile(model + ".json"));
        var slots = golden.Cases.Count;
        using var target = Open(SharedFiles.Model(model), slots);
        using var draft = mode switch
        {
            "self-draft" => Open(SharedFiles.Model(model), slots),
            "random-draft" => Open(RandomDraft(model), slots),
            _ => null,
        };
        var speculation = new SpeculationOptions { DraftTokens = 4, NgramLength = draft is null ? 2 : null, DraftModel = draft };
        var tokenizer = TokenizerFactory.FromGguf(target.File);
        using var scheduler = new Scheduler(target, tokenizer, new SchedulerOptions { MaxBatchSize = slots, Speculation = speculation });
        var generations = scheduler.SubmitMany([.. golden.Cases.Select(c => new GenerationRequest(c.PromptTokens)
        {
            MaxTokens = c.GreedyTokens.Length,
            IgnoreEos = true,
            Sampling = SamplingParams.Greedy with { Logprobs = true },
        })]);
        var results = await Task.WhenAll(generations.Select(g => g.CollectAsync().WaitAsync(TimeSpan.FromMinutes(3))));
        for (var i = 0; i < results.Length; i++)
            Assert.Equal(golden.Cases[i].GreedyTokens, results[i].Logprobs!.Select(e => e.Id));

        var m = scheduler.Speculation!;
        output.WriteLine($"{model} {mode}: {m.AcceptedTokens} of {m.DraftTokens} drafts accepted in {m.Drafts} proposals");
        Assert.True(m.DraftTokens > 0, "nothing was proposed");
        if (mode == "self-draft") Assert.Equal(m.DraftTokens, m.AcceptedTokens);
        if (mode == "random-draft") Assert.True(m.AcceptedTokens < m.DraftTokens);
    }

    [SharedFact]
    public async Task An_adapter_on_the_target_keeps_its_output_with_a_base_draft_model()
    {
        // The draft runs without the adapter: it proposes for the base model, the target verifies with it.
        var golden = LoraGolden.Load("stories260K-lora-all-r8.json");
        using var target = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"), slots: 4);
        using var draft = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"), slots: 4);
        var adapter = LoraSet.Single(target.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-all-r8.gguf"))));
        using var scheduler = new Scheduler(target, TokenizerFactory.FromGguf(target.File),
            new SchedulerOptions { MaxBatchSize = 4, Speculation = new() { DraftTokens = 3, DraftModel = draft } });
        var cases = golden.Cases.Select(c => c.Case).ToArray();
        var results = await Task.WhenAll(cases.Select(c => scheduler.Submit(new GenerationRequest(c.PromptTokens)
        {
            MaxTokens = c.GreedyTokens.Length,
            Sampling = SamplingParams.Greedy,
            Adapters = adapter,
        }).CollectAsync().WaitAsync(TimeSpan.FromMinutes(2))));
        Assert.Equal(cases.Select(c => c.GreedyText), results.Select(r => r.Text));
        Assert.True(scheduler.Speculation!.DraftTokens > 0);
    }

    [SharedFact]
    public void Positions_past_the_kept_prefix_are_overwritten_before_they_are_attended()
    {
        int[] prompt = [1, 403, 407, 261];
        int[] kept = [378, 432, 383];
        using var clean = Open(SharedFiles.Model("stories260K.gguf"), 1);
        using var rolled = Open(SharedFiles.Model("stories260K.gguf"), 1);
        var vocab = clean.Info.VocabSize;

        float[] Step(LlamaModel m, int start, params int[] tokens)
        {
            var b = new Batch();
            for (var i = 0; i < tokens.Length; i++) b.Add(tokens[i], 0, start + i, wantLogits: true);
            return m.Forward(b).ToArray();
        }

        Step(clean, 0, prompt);
        var reference = Step(clean, 4, kept);

        Step(rolled, 0, prompt);
        // Drafts 7 and 9 after 378 are rejected: their keys and values sit at positions 5 and 6.
        var rejected = Step(rolled, 4, 378, 7, 9);
        rolled.Truncate(0, 5);
        var after = Step(rolled, 5, 432, 383);

        for (var j = 0; j < vocab; j++)
        {
            Assert.Equal(reference[j], rejected[j], 1e-4f); // position 4 saw only the prompt and itself
            Assert.Equal(reference[vocab + j], after[j], 1e-4f);
            Assert.Equal(reference[2 * vocab + j], after[vocab + j], 1e-4f);
        }
        // The rejected rows themselves did see other tokens: the comparison above can fail.
        Assert.True(MaxDifference(reference.AsSpan(2 * vocab, vocab), rejected.AsSpan(2 * vocab, vocab)) > 1e-2);
    }

    private static float MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var worst = 0f;
        for (var i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }
}
