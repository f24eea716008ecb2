namespace Kiln.Engine.Sampling;

/// <summary>
/// Finds the element whose span of the running sum of weights holds <c>u</c>: block sums first,
/// then one block's weights, so a pick costs a few hundred additions however large the vocabulary.
/// </summary>
internal static class WeightedPick
{
    /// <summary>
    /// Returns the index of the first element whose running sum passes u = <paramref name="r"/> x
    /// <paramref name="total"/>, or -1 when u lies within the <paramref name="band"/> of either end of that
    /// element's span (or past the end): the reference's weights could then disagree about the choice.
    /// </summary>
    public static int Find(ReadOnlySpan<float> w, ReadOnlySpan<double> blockSums, double r, double total, DecisionBand band)
    {
        var u = r * total;
        const int block = SoftmaxKernels.Block;
        var blocks = (w.Length + block - 1) / block;
        double before = 0;
        var b = 0;
        while (b < blocks - 1 && before + blockSums[b] <= u) before += blockSums[b++];
        var end = Math.Min((b + 1) * block, w.Length);
        for (var i = b * block; i < end; i++)
        {
            var after = before + w[i];
            if (after > u) return Clear(before, after, r, total, band) ? i : -1;
            before = after;
        }
        return -1;
    }

    /// <summary>Whether the draw r x total lies inside (before, after] by more than the band at each end.</summary>
    public static bool Clear(double before, double after, double r, double total, DecisionBand band)
    {
        var u = r * total;
        return u - before > band.Around(before, total, r) && after - u > band.Around(after, total, r);
    }
}
