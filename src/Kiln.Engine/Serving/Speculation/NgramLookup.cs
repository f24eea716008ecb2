namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// Prompt lookup decoding: the sequence's last n tokens are looked for earlier in its tokens (prompt
/// and output), latest occurrence first, and the tokens that followed that occurrence are proposed.
/// Repetitive work (editing, quoting or summarising a given text, code) repeats long runs of the prompt.
/// </summary>
public static class NgramLookup
{
    /// <summary>
    /// Writes up to <paramref name="drafts"/>.Length tokens that followed an earlier occurrence of the
    /// last <paramref name="n"/> tokens of <paramref name="tokens"/>: the latest one, unless it sits
    /// too close to the end to fill the drafts, then the latest of those that follow it longest. Returns
    /// how many (0 when the n-gram occurs nowhere before).
    /// </summary>
    public static int Propose(ReadOnlySpan<int> tokens, int n, Span<int> drafts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var length = tokens.Length;
        if (drafts.IsEmpty || length <= n) return 0;
        var tail = tokens[(length - n)..];
        int best = 0, bestFrom = 0;
        // An occurrence starting at j leaves tokens after it that the tail does not end on.
        for (var j = length - n - 1; j >= 0 && best < drafts.Length; j--)
        {
            if (!tokens.Slice(j, n).SequenceEqual(tail)) continue;
            var count = Math.Min(drafts.Length, length - (j + n));
            if (count <= best) continue;
            best = count;
            bestFrom = j + n;
        }
        tokens.Slice(bestFrom, best).CopyTo(drafts);
        return best;
    }
}
