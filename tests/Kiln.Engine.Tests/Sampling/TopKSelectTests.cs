using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

/// <summary>
/// The vectorised quickselect must leave the k best in exactly the order the plain scalar
/// quickselect leaves them (that order decides a seeded top_k draw), whatever the pivots do.
/// </summary>
public class TopKSelectTests
{
    [Theory]
    [InlineData(32000, 40, 0)]
    [InlineData(32000, 40, 1)]
    [InlineData(32000, 40, 2)]
    [InlineData(32000, 2000, 0)]
    [InlineData(32000, 1024, 3)]
    [InlineData(5000, 4990, 0)]
    [InlineData(3000, 1, 1)]
    [InlineData(300, 40, 2)]
    [InlineData(1029, 700, 3)]
    public void Leaves_the_k_best_in_the_scalar_quickselects_order(int n, int k, int shape)
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var logits = Logits(n, shape, seed);
            // Ids ascending, as the sampler passes them, or shuffled as after an earlier filter.
            int[] ids = seed % 2 == 0 ? [.. Enumerable.Range(0, n)] : [.. Enumerable.Range(0, n).OrderBy(i => (i * 7919L) % n)];
            var expected = ids.ToArray();
            ReferenceSelect(logits, expected, k);
            var values = ids.Select(i => logits[i]).ToArray();
            var whole = ids.ToArray();
            var wholeValues = values.ToArray();
            TopKSelect.Select(ids, values, k);
            Assert.Equal(expected[..k], ids[..k]);
            Assert.Equal(ids[..k].Select(i => logits[i]), values[..k]);
            // Keeping the rest makes every swap of the reference, so the whole array matches.
            TopKSelect.Select(whole, wholeValues, k, keepRest: true);
            Assert.Equal(expected, whole);
        }
    }

    [Theory]
    [InlineData(32000, 40, 0)]
    [InlineData(32000, 40, 1)]
    [InlineData(32000, 40, 2)]
    [InlineData(32000, 40, 3)]
    [InlineData(32000, 1, 0)]
    [InlineData(32000, 16001, 2)]
    [InlineData(32000, 5000, 0)] // a better side short of k: the scalar partition, then copies from a range past 0
    [InlineData(32000, 5000, 1)]
    [InlineData(32000, 31999, 0)]
    [InlineData(32000, 32000, 0)]
    [InlineData(258, 40, 1)]
    [InlineData(257, 3, 0)]
    [InlineData(200, 40, 0)]
    public void Selecting_from_the_logits_leaves_what_listing_them_and_selecting_leaves(int n, int k, int shape)
    {
        for (var seed = 0; seed < 12; seed++)
        {
            var logits = Logits(n, shape, seed);
            // Every third seed bans tokens or holds NaN (the listing then skips them); some hold +inf.
            if (seed % 3 == 1) logits[seed * 7 % n] = float.NegativeInfinity;
            if (seed % 3 == 2) logits[n / 2] = float.NaN;
            if (seed % 4 == 3) logits[seed % n] = float.PositiveInfinity;
            var expectedIds = new int[n];
            var expectedValues = new float[n];
            var listed = SoftmaxKernels.IndicesAtLeast(logits, float.MinValue, expectedIds, expectedValues);
            TopKSelect.Select(expectedIds.AsSpan(0, listed), expectedValues.AsSpan(0, listed), k);
            var kept = Math.Min(k, listed);

            var ids = new int[n];
            var values = new float[n];
            Assert.Equal(kept, TopKSelect.SelectBest(logits, k, ids, values));
            Assert.Equal(expectedIds[..kept], ids[..kept]);
            Assert.Equal(expectedValues[..kept], values[..kept]);

            // With spare lists the better sides are copied between the two pairs instead of compacted in place.
            ids = new int[n];
            values = new float[n];
            Assert.Equal(kept, TopKSelect.SelectBest(logits, k, ids, values, new int[n], new float[n]));
            Assert.Equal(expectedIds[..kept], ids[..kept]);
            Assert.Equal(expectedValues[..kept], values[..kept]);
        }
    }

    private static float[] Logits(int n, int shape, int seed)
    {
        var rng = new Random(seed * 31 + shape);
        return shape switch
        {
            0 => [.. Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble())],
            1 => [.. Enumerable.Range(0, n).Select(_ => MathF.Round((float)rng.NextDouble() * 6f) * 0.5f)], // many ties
            2 => [.. Enumerable.Range(0, n).Select(i => (float)i)], // ascending: the middle pivot is among the best
            _ => [.. Enumerable.Range(0, n).Select(i => i % 3 == 0 ? -0f : i % 3 == 1 ? 0f : (float)rng.NextDouble() - 0.5f)],
        };
    }

    /// <summary>The scalar quickselect the sampler used before: median of three, Lomuto partition, through the logits.</summary>
    private static void ReferenceSelect(float[] logits, int[] ids, int k)
    {
        bool Better(int a, int b) => logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        if (k <= 0 || k >= ids.Length) return;
        int lo = 0, hi = ids.Length - 1, target = k - 1;
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            if (Better(ids[mid], ids[lo])) (ids[mid], ids[lo]) = (ids[lo], ids[mid]);
            if (Better(ids[hi], ids[lo])) (ids[hi], ids[lo]) = (ids[lo], ids[hi]);
            if (Better(ids[mid], ids[hi])) (ids[mid], ids[hi]) = (ids[hi], ids[mid]);
            var pivot = ids[hi];
            var store = lo;
            for (var i = lo; i < hi; i++)
            {
                if (Better(ids[i], pivot))
                {
                    (ids[i], ids[store]) = (ids[store], ids[i]);
                    store++;
                }
            }
            (ids[store], ids[hi]) = (ids[hi], ids[store]);
            if (store == target) return;
            if (store > target) hi = store - 1;
            else lo = store + 1;
        }
    }
}
