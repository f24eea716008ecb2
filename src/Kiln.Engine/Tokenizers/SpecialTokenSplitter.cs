namespace Kiln.Engine.Tokenizers;

/// <summary>A piece of the input: either raw text to tokenize or an already-known token.</summary>
internal readonly record struct Fragment(int Start, int Length, int Token)
{
    public bool IsText => Token < 0;

    public static Fragment Text(int start, int length) => new(start, length, -1);
}

/// <summary>
/// Cuts special-token text out of the input before the model's tokenizer sees it, as llama.cpp's
/// <c>tokenizer_st_partition</c> does: special tokens are tried longest first, each one splitting
/// every remaining text fragment at all its occurrences. User-defined tokens are always split out;
/// control and unknown tokens only when <c>parseSpecial</c> is on.
/// </summary>
internal static class SpecialTokenSplitter
{
    public static List<Fragment> Split(string text, Vocabulary vocab, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(Fragment.Text(0, text.Length));

        var next = new List<Fragment>();
        foreach (var id in vocab.SpecialTokens)
        {
            if (!parseSpecial && vocab.Kinds[id] is TokenKind.Control or TokenKind.Unknown) continue;
            var piece = vocab.Pieces[id];
            if (!AnyTextContains(text, fragments, piece)) continue;

            next.Clear();
            foreach (var f in fragments)
            {
                if (f.IsText) SplitFragment(text, f, id, piece, vocab, next);
                else next.Add(f);
            }
            (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    private static bool AnyTextContains(string text, List<Fragment> fragments, string piece)
    {
        foreach (var f in fragments)
        {
            if (f.IsText && text.AsSpan(f.Start, f.Length).IndexOf(piece, StringComparison.Ordinal) >= 0) return true;
        }
        return false;
    }

    private static void SplitFragment(string text, Fragment f, int id, string piece, Vocabulary vocab, List<Fragment> output)
    {
        var start = f.Start;
        var end = f.Start + f.Length;
        while (start < end)
        {
            var at = text.AsSpan(start, end - start).IndexOf(piece, StringComparison.Ordinal);
            if (at < 0) break;
            at += start;

            var leftEnd = at;
            if (vocab.LStrip.Contains(id))
            {
                while (leftEnd > start && IsAsciiSpace(text[leftEnd - 1])) leftEnd--;
            }
            if (leftEnd > start) output.Add(Fragment.Text(start, leftEnd - start));
            output.Add(new Fragment(at, piece.Length, id));

            start = at + piece.Length;
            if (vocab.RStrip.Contains(id))
            {
                while (start < end && IsAsciiSpace(text[start])) start++;
            }
        }
        if (start < end) output.Add(Fragment.Text(start, end - start));
    }

    // C's isspace in the default locale, which llama.cpp uses for stripping.
    private static bool IsAsciiSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
