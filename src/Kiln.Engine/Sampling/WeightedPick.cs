namespace Kiln.Engine.Sampling;

/// <summary>
/// Finds the element whose span of the running sum of weights holds <c>u</c>: block sums first,
/// then one block's weights, so a pick costs a few hundred additions however large the vocabulary.
/// </summary>
internal static class WeightedPick
{
    /// <summary>
    /// Returns the index of the first element whose running sum passes <paramref name="u"/>, or -1 when
    /// <paramref name="u"/> lies within <paramref name="tolerance"/> of either end of that element's span
    /// (or past the end): approximate weights could then disagree with exact ones about the choice.
    /// </summary>
    public static int Find(ReadOnlySpan<float> w, ReadOnlySpan<double> blockSums, double u, double tolerance)
    {
        const int block = SoftmaxKernels.Block;
        var blocks = (w.Length + block - 1) / block;
        double before = 0;
        var b = 0;
        while (b < blocks - 1 && before + blockSums[b] <= u) before += blockSums[b++];
        var end = Math.Min((b + 1) * block, w.Length);
        for (var i = b * block; i < end; i++)
        {
            var after = before + w[i];
            if (after > u) return u - before > tolerance && after - u > tolerance ? i : -1;
            before = after;
        }
        return -1;
    }
}
