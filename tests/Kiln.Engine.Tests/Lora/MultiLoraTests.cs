using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Tests.Models;

namespace Kiln.Engine.Tests.Lora;

/// <summary>Rows of one batch running different adapters (or none) each reproduce their own golden.</summary>
public class MultiLoraTests
{
    private static readonly string[] Files =
        ["stories260K-base.json", "stories260K-lora-qv-r4.json", "stories260K-lora-qv-r4-scale0.5.json", "stories260K-lora-all-r8.json", "stories260K-lora-stacked.json"];

    [SharedFact]
    public void MixedAdaptersInOneBatchEachMatchTheirGolden()
    {
        var goldens = Files.Select(LoraGolden.Load).ToArray();
        using var model = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"), slots: Files.Length);
        var qv = model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf")));
        var all = model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-all-r8-peft"), model.Config));
        LoraSet?[] sets =
        [
            null,
            LoraSet.Single(qv),
            LoraSet.Single(qv, 0.5f),
            LoraSet.Single(all),
            new([new LoraSetEntry(qv, 0.5f), new LoraSetEntry(all, 1f)]),
        ];
        var vocab = model.Info.VocabSize;

        for (var ci = 0; ci < goldens[0].Cases.Count; ci++)
        {
            // Teacher-forced: every sequence's whole text in one batch, slot per golden.
            var batch = new Batch();
            for (var g = 0; g < goldens.Length; g++)
            {
                var c = goldens[g].Cases[ci].Case;
                var tokens = c.PromptTokens.Concat(c.GreedyTokens).ToArray();
                for (var i = 0; i < tokens.Length; i++) batch.Add(tokens[i], g, i, true, sets[g]);
            }
            var logits = model.Forward(batch).ToArray();
            var offset = 0;
            for (var g = 0; g < goldens.Length; g++)
            {
                var c = goldens[g].Cases[ci].Case;
                var n = c.Positions.Length;
                LoraChecks.CompareRows(goldens[g], c, logits[(offset * vocab)..((offset + n) * vocab)], vocab, Files[g]);
                offset += n;
                model.Truncate(g, 0);
            }

            // Greedy: all sequences decode together, one row each per step.
            var generated = goldens.Select(_ => new List<int>()).ToArray();
            batch.Clear();
            for (var g = 0; g < goldens.Length; g++)
            {
                var prompt = goldens[g].Cases[ci].Case.PromptTokens;
                for (var i = 0; i < prompt.Length; i++) batch.Add(prompt[i], g, i, i == prompt.Length - 1, sets[g]);
            }
            for (var step = 0; step < 32; step++)
            {
                var rows = model.Forward(batch).ToArray();
                batch.Clear();
                for (var g = 0; g < goldens.Length; g++)
                {
                    var next = GoldenLogitsTests.ArgMax(rows.AsSpan(g * vocab, vocab));
                    generated[g].Add(next);
                    batch.Add(next, g, goldens[g].Cases[ci].Case.PromptTokens.Length + step, true, sets[g]);
                }
            }
            for (var g = 0; g < goldens.Length; g++)
            {
                Assert.Equal(goldens[g].Cases[ci].Case.GreedyTokens, generated[g]);
                model.Truncate(g, 0);
            }
        }
    }

    [SharedFact]
    public void UnregisteringLeavesTheBaseUntouchedAndFreesTheId()
    {
        var golden = LoraGolden.Load("stories260K-base.json");
        using var model = LoraFixtures.OpenModel(SharedFiles.Model("stories260K.gguf"));
        var id = model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-all-r8.gguf")));
        Assert.True(model.UnregisterAdapter(id));
        Assert.False(model.UnregisterAdapter(id));
        var c = golden.Cases[0].Case;
        Assert.Equal(c.GreedyTokens, LoraChecks.Greedy(model, c.PromptTokens, c.GreedyTokens.Length, null));
        model.Truncate(0, 0);
        var batch = new Batch();
        batch.Add(1, 0, 0, true, LoraSet.Single(id));
        Assert.Contains("not registered", Assert.Throws<ArgumentException>(() => model.Forward(batch)).Message);
        Assert.Equal(id, model.RegisterAdapter(LoraAdapter.Load(LoraFixtures.Path("stories260K-lora-qv-r4.gguf"))));
    }
}
