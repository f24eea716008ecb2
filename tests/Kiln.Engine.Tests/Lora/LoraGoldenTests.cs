using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Tests.Models;
using Xunit.Abstractions;

namespace Kiln.Engine.Tests.Lora;

/// <summary>
/// Adapters against llama.cpp's reference outputs: teacher-forced logits within each file's tolerance
/// and greedy continuations over the stable prefix, for the GGUF and PEFT forms alike.
/// </summary>
public class LoraGoldenTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> Goldens() => new()
    {
        { "stories260K-base.json", false },
        { "stories260K-lora-qv-r4.json", false },
        { "stories260K-lora-qv-r4.json", true },
        { "stories260K-lora-qv-r4-scale0.5.json", false },
        { "stories260K-lora-qv-r4-scale0.5.json", true },
        { "stories260K-lora-all-r8.json", false },
        { "stories260K-lora-all-r8.json", true },
        { "stories260K-lora-stacked.json", false },
        { "stories260K-lora-stacked.json", true },
        { "tinystories656k-base.json", false },
        { "tinystories656k-lora-qv-r4.json", false },
        { "tinystories656k-base.dequant-f32.json", false },
        { "tinystories656k-lora-qv-r4.dequant-f32.json", false },
    };

    [SharedTheory]
    [MemberData(nameof(Goldens))]
    public void TeacherForcedLogitsMatchReference(string file, bool peft)
    {
        var golden = LoraGolden.Load(file);
        using var model = LoraFixtures.OpenModel(LoraFixtures.BaseModelPath(golden));
        var set = LoraFixtures.Register(model, golden, peft);
        var worst = 0.0;
        foreach (var (c, _) in golden.Cases)
        {
            var tokens = c.PromptTokens.Concat(c.GreedyTokens).ToArray();
            var batch = new Batch(tokens.Length);
            for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], 0, i, wantLogits: true, set);
            var logits = model.Forward(batch).ToArray();
            worst = Math.Max(worst, LoraChecks.CompareRows(golden, c, logits, model.Info.VocabSize, $"{file} '{c.Prompt}'"));
            model.Truncate(0, 0);
        }
        output.WriteLine($"{file}{(peft ? " (PEFT)" : "")}: max |Δlogit| {worst:G3} (tolerance {golden.LogitAbs})");
    }

    [SharedTheory]
    [MemberData(nameof(Goldens))]
    public void GreedyContinuationMatchesReference(string file, bool peft)
    {
        var golden = LoraGolden.Load(file);
        using var model = LoraFixtures.OpenModel(LoraFixtures.BaseModelPath(golden));
        var set = LoraFixtures.Register(model, golden, peft);
        foreach (var (c, stable) in golden.Cases)
        {
            var generated = LoraChecks.Greedy(model, c.PromptTokens, c.GreedyTokens.Length, set);
            var agree = generated.Zip(c.GreedyTokens).TakeWhile(x => x.First == x.Second).Count();
            output.WriteLine($"{file}{(peft ? " (PEFT)" : "")} '{c.Prompt}': {agree}/{c.GreedyTokens.Length} greedy tokens agree (stable prefix {stable})");
            Assert.True(agree >= stable, $"{file} '{c.Prompt}': {agree} greedy tokens agree, {stable} required");
            model.Truncate(0, 0);
        }
    }
}
