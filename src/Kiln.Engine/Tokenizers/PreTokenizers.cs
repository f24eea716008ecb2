namespace Kiln.Engine.Tokenizers;

/// <summary>
/// Matches one pre-tokenizer pattern at <paramref name="pos"/> inside a segment ending at
/// <paramref name="end"/>. Returns the match end, or -1 when the pattern does not match there.
/// </summary>
internal delegate int Matcher(ReadOnlySpan<int> cps, int pos, int end);

/// <summary>
/// Splits text (as code points) into words before byte-level BPE. llama.cpp applies a list of
/// regexes in sequence, each one splitting every segment left by the previous ones into matches and
/// the gaps between them; each regex sees a segment as its whole input (so <c>$</c> and
/// <c>(?!\S)</c> stop at segment ends). The patterns are hand-written matchers that follow those
/// regexes' leftmost-first backtracking semantics (and, for the GPT-2 and Llama 3 patterns, the exact
/// behaviour of llama.cpp's dedicated splitters).
/// </summary>
internal sealed class PreTokenizer
{
    private readonly Matcher[] _steps;

    public string Name { get; }

    private PreTokenizer(string name, params Matcher[] steps)
    {
        Name = name;
        _steps = steps;
    }

    /// <summary>Appends the lengths (in code points) of the words of <paramref name="cps"/>.</summary>
    public void Split(ReadOnlySpan<int> cps, List<int> lengths)
    {
        lengths.Clear();
        if (cps.IsEmpty) return;
        lengths.Add(cps.Length);
        var next = new List<int>(cps.Length / 2 + 1);
        foreach (var step in _steps)
        {
            next.Clear();
            var start = 0;
            foreach (var len in lengths)
            {
                SplitSegment(cps, start, start + len, step, next);
                start += len;
            }
            lengths.Clear();
            lengths.AddRange(next);
        }
    }

    // Like a regex iterator: matches become segments, and so do the unmatched runs between them.
    private static void SplitSegment(ReadOnlySpan<int> cps, int start, int end, Matcher match, List<int> output)
    {
        var gapStart = start;
        var pos = start;
        while (pos < end)
        {
            var m = match(cps, pos, end);
            if (m <= pos)
            {
                pos++;
                continue;
            }
            if (pos > gapStart) output.Add(pos - gapStart);
            output.Add(m - pos);
            pos = gapStart = m;
        }
        if (end > gapStart) output.Add(end - gapStart);
    }

    /// <summary>
    /// The pre-tokenizer for a GGUF <c>tokenizer.ggml.pre</c> value, or null if Kiln does not know it.
    /// </summary>
    public static PreTokenizer? ForName(string? pre) => pre switch
    {
        null or "" or "default" => new("default",
            Run(cp => Unicode.IsPunctuation(cp) || cp is '$' or '+' or '<' or '=' or '>' or '^' or '~' or '|'),
            Gpt2, Run(Unicode.IsNumber), ThreeAsciiDigits),
        "gpt-2" or "gpt2" or "phi-2" or "mpt" or "olmo" or "jais" or "gpt-neox" or "roberta-bpe" or "gigachat"
            or "jina-es" or "jina-de" or "jina-v1-en" or "jina-v2-es" or "jina-v2-de" or "jina-v2-code" => new(pre, Gpt2),
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "dbrx" or "smaug-bpe" => new(pre, Llama3),
        "qwen2" or "deepseek-r1-qwen" or "stablelm2" or "megrez" => new(pre, Qwen2),
        "starcoder" or "refact" or "command-r" or "smollm" or "codeshell" or "exaone" or "minerva-7b" =>
            new(pre, One(Unicode.IsNumber), Gpt2),
        "falcon" => new(pre,
            Run(cp => Unicode.IsPunctuation(cp) || cp is '$' or '+' or '<' or '=' or '>' or '^' or '~' or '|' or '`'),
            Gpt2, ThreeAsciiDigits),
        "deepseek-llm" => new(pre,
            One(cp => cp is '\r' or '\n'),
            OptionalSpaceThenRun(Wide(DeepseekLetters.Contains)),
            OptionalSpaceThenRun(Wide(DeepseekPunctuation.Contains)),
            TrailingWhitespace,
            Run(Wide(CjkAndMore.Contains)),
            Run(Unicode.IsNumber)),
        "deepseek-coder" => new(pre,
            One(cp => cp is '\r' or '\n'),
            OptionalSpaceThenRun(Unicode.IsLetter),
            OptionalSpaceThenRun(Unicode.IsPunctuation),
            Run(Wide(CjkAndMore.Contains)),
            One(Unicode.IsNumber)),
        _ => null,
    };

    /// <summary>Pre-tokenizer names for which llama.cpp sets <c>ignore_merges</c> (whole-word tokens win).</summary>
    public static bool IgnoresMerges(string? pre) => pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "tekken";

    /// <summary>Pre-tokenizer names for which llama.cpp adds BOS by default.</summary>
    public static bool AddsBosByDefault(string? pre) =>
        pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "tekken" or "chameleon";

    // ---- pattern building blocks --------------------------------------------------------------

    // llama.cpp matches regexes without \p{..} classes on the raw code points, except that non-ASCII
    // whitespace is replaced by U+000B first; explicit ranges must therefore never match it.
    private static Func<int, bool> Wide(Func<int, bool> inClass) =>
        cp => inClass(cp) && !(cp > 0x7F && Unicode.IsWhitespace(cp));

    // C: one code point of the class.
    private static Matcher One(Func<int, bool> inClass) =>
        (cps, pos, _) => inClass(cps[pos]) ? pos + 1 : -1;

    // C+
    private static Matcher Run(Func<int, bool> inClass) => (cps, pos, end) =>
    {
        if (!inClass(cps[pos])) return -1;
        var q = pos + 1;
        while (q < end && inClass(cps[q])) q++;
        return q;
    };

    // \s?C+ (no class used here contains whitespace, so the optional space is taken when C follows).
    private static Matcher OptionalSpaceThenRun(Func<int, bool> inClass) => (cps, pos, end) =>
    {
        var q = pos;
        if (Unicode.IsWhitespace(cps[q]) && q + 1 < end && inClass(cps[q + 1])) q++;
        else if (!inClass(cps[q])) return -1;
        q++;
        while (q < end && inClass(cps[q])) q++;
        return q;
    };

    // \s+$ : only the whitespace run that reaches the end of the segment.
    private static int TrailingWhitespace(ReadOnlySpan<int> cps, int pos, int end)
    {
        var q = pos;
        while (q < end && Unicode.IsWhitespace(cps[q])) q++;
        return q > pos && q == end ? q : -1;
    }

    // [0-9][0-9][0-9]
    private static int ThreeAsciiDigits(ReadOnlySpan<int> cps, int pos, int end) =>
        pos + 3 <= end && IsAsciiDigit(cps[pos]) && IsAsciiDigit(cps[pos + 1]) && IsAsciiDigit(cps[pos + 2])
            ? pos + 3
            : -1;

    private static bool IsAsciiDigit(int cp) => cp is >= '0' and <= '9';

    private static bool IsOther(int cp) =>
        (Unicode.Flags(cp) & (CpFlags.Whitespace | CpFlags.Letter | CpFlags.Number)) == 0;

    /// <summary>
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    /// </summary>
    private static int Gpt2(ReadOnlySpan<int> cps, int pos, int end)
    {
        var c = cps[pos];
        if (c == '\'' && pos + 1 < end)
        {
            var n = cps[pos + 1];
            if (n is 's' or 't' or 'm' or 'd') return pos + 2;
            if (pos + 2 < end)
            {
                var nn = cps[pos + 2];
                if ((n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l')) return pos + 3;
            }
        }

        var q = c == ' ' ? pos + 1 : pos;
        if (q < end)
        {
            var f = Unicode.Flags(cps[q]);
            if ((f & CpFlags.Letter) != 0) return RunFrom(cps, q, end, Unicode.IsLetter);
            if ((f & CpFlags.Number) != 0) return RunFrom(cps, q, end, Unicode.IsNumber);
            if (IsOther(cps[q])) return RunFrom(cps, q, end, IsOther);
        }
        return Whitespace(cps, pos, end, splitAtNewline: false);
    }

    private static int Llama3(ReadOnlySpan<int> cps, int pos, int end) => Llama3Like(cps, pos, end, 3);

    private static int Qwen2(ReadOnlySpan<int> cps, int pos, int end) => Llama3Like(cps, pos, end, 1);

    /// <summary>
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,<paramref name="maxDigits"/>}|
    ///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    /// </summary>
    private static int Llama3Like(ReadOnlySpan<int> cps, int pos, int end, int maxDigits)
    {
        var c = cps[pos];
        if (c == '\'' && pos + 1 < end)
        {
            var n = Unicode.ToLower(cps[pos + 1]);
            if (n is 's' or 't' or 'm' or 'd') return pos + 2;
            if (pos + 2 < end)
            {
                var nn = Unicode.ToLower(cps[pos + 2]);
                if ((n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l')) return pos + 3;
            }
        }

        var isNumber = Unicode.IsNumber(c);
        if (c is not ('\r' or '\n') && !isNumber &&
            (Unicode.IsLetter(c) || (pos + 1 < end && Unicode.IsLetter(cps[pos + 1]))))
        {
            return RunFrom(cps, pos + 1, end, Unicode.IsLetter);
        }

        if (isNumber)
        {
            var q = pos + 1;
            while (q < end && q - pos < maxDigits && Unicode.IsNumber(cps[q])) q++;
            return q;
        }

        var s = c == ' ' ? pos + 1 : pos;
        if (s >= end || IsOther(cps[s]))
        {
            var q = RunFrom(cps, s, end, IsOther);
            while (q < end && cps[q] is '\r' or '\n') q++;
            return q;
        }
        return Whitespace(cps, pos, end, splitAtNewline: true);
    }

    private static int RunFrom(ReadOnlySpan<int> cps, int q, int end, Func<int, bool> inClass)
    {
        while (q < end && inClass(cps[q])) q++;
        return q;
    }

    // \s*[\r\n]+ (when splitAtNewline) | \s+(?!\S) | \s+ ; anything else is a one-code-point word.
    private static int Whitespace(ReadOnlySpan<int> cps, int pos, int end, bool splitAtNewline)
    {
        var n = 0;
        var lastNewlineEnd = -1;
        while (pos + n < end && Unicode.IsWhitespace(cps[pos + n]))
        {
            if (cps[pos + n] is '\r' or '\n') lastNewlineEnd = pos + n + 1;
            n++;
        }
        if (splitAtNewline && lastNewlineEnd > 0) return lastNewlineEnd;
        if (n > 1 && pos + n < end) return pos + n - 1;
        return n > 0 ? pos + n : pos + 1;
    }

    // ---- DeepSeek's explicit character classes (from its tokenizer.json) --------------------------

    private static readonly CodepointSet DeepseekLetters = CodepointSet.Parse(
        "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃");

    private static readonly CodepointSet DeepseekPunctuation = CodepointSet.Parse("!-/:-~！-／：-～‘-‟　-。");

    private static readonly CodepointSet CjkAndMore = CodepointSet.Parse("一-龥ࠀ-一가-퟿");
}
