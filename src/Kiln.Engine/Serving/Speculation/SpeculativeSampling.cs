namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// Speculative sampling (Leviathan et al. 2023; Chen et al. 2023): a draft token x drawn from q is
/// kept with probability min(1, p(x)/q(x)); when it is not, the token is drawn from norm(max(0, p - q)).
/// The tokens so produced follow the target distribution p exactly, whatever q is. An empty q stands
/// for a point mass on x (a proposal that is not sampled, such as an n-gram's). With a greedy p (a
/// point mass on its argmax) x is kept exactly when it is the argmax, and otherwise the argmax is drawn.
/// </summary>
public static class SpeculativeSampling
{
    /// <summary>Whether draft token <paramref name="x"/> is kept, given a uniform draw <paramref name="u"/> in [0, 1).</summary>
    public static bool Accepts(ReadOnlySpan<float> p, ReadOnlySpan<float> q, int x, double u)
    {
        var qx = q.IsEmpty ? 1f : q[x];
        // u < p/q without dividing; a token q could not have drawn is never kept.
        return qx > 0f && u * qx < p[x];
    }

    /// <summary>Draws from norm(max(0, p - q)) with the uniform draw <paramref name="u"/> (empty q: a point mass on <paramref name="x"/>).</summary>
    public static int Residual(ReadOnlySpan<float> p, ReadOnlySpan<float> q, int x, double u)
    {
        double total = 0;
        for (var i = 0; i < p.Length; i++) total += Excess(p, q, x, i);
        // p and q agree to rounding: nothing is left over, and p itself is the answer.
        if (!(total > 1e-12)) return Draw(p, u);
        var target = u * total;
        var last = -1;
        for (var i = 0; i < p.Length; i++)
        {
            var w = Excess(p, q, x, i);
            if (w <= 0) continue;
            last = i;
            target -= w;
            if (target < 0) return i;
        }
        return last;
    }

    /// <summary>Draws from the distribution <paramref name="p"/> (summing to 1) with the uniform draw <paramref name="u"/>.</summary>
    public static int Draw(ReadOnlySpan<float> p, double u)
    {
        double total = 0;
        foreach (var v in p) total += v;
        var target = u * total;
        var last = 0;
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0f) continue;
            last = i;
            target -= p[i];
            if (target < 0) return i;
        }
        return last;
    }

    private static double Excess(ReadOnlySpan<float> p, ReadOnlySpan<float> q, int x, int i)
    {
        var qi = q.IsEmpty ? (i == x ? 1f : 0f) : q[i];
        return Math.Max(0.0, (double)p[i] - qi);
    }
}
