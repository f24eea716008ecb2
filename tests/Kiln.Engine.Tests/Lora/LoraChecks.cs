using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Tests.Models;

namespace Kiln.Engine.Tests.Lora;

internal static class LoraChecks
{
    /// <summary>Asserts every reference logit and log-sum-exp of a case; returns the largest |Δlogit|.</summary>
    public static double CompareRows(LoraGolden golden, LogitGoldenCase c, float[] logits, int vocab, string what)
    {
        var worst = 0.0;
        for (var i = 0; i < c.Positions.Length; i++)
        {
            var row = logits.AsSpan(i * vocab, vocab);
            foreach (var (id, expected) in c.Positions[i].Top)
            {
                var d = Math.Abs(row[id] - expected);
                worst = Math.Max(worst, d);
                Assert.True(d <= golden.LogitAbs, $"{what} position {i} token {id}: logit {row[id]} vs {expected} (tolerance {golden.LogitAbs})");
            }
            var lse = GoldenLogitsTests.LogSumExp(row);
            Assert.True(Math.Abs(lse - c.Positions[i].LogSumExp) <= golden.LogsumexpAbs,
                $"{what} position {i}: logsumexp {lse} vs {c.Positions[i].LogSumExp}");
        }
        return worst;
    }

    /// <summary>Argmax decoding of one sequence in slot 0: the prompt in one batch, then a token per step.</summary>
    public static int[] Greedy(LlamaModel model, int[] prompt, int count, LoraSet? set)
    {
        var vocab = model.Info.VocabSize;
        var batch = new Batch();
        for (var i = 0; i < prompt.Length; i++) batch.Add(prompt[i], 0, i, i == prompt.Length - 1, set);
        var generated = new int[count];
        for (var step = 0; step < count; step++)
        {
            generated[step] = GoldenLogitsTests.ArgMax(model.Forward(batch)[..vocab]);
            batch.Clear();
            batch.Add(generated[step], 0, prompt.Length + step, true, set);
        }
        return generated;
    }
}
