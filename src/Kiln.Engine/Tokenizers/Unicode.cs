using System.Globalization;
using System.Text;

namespace Kiln.Engine.Tokenizers;

/// <summary>Code point classification as the pre-tokenizers and WordPiece need it.</summary>
[Flags]
internal enum CpFlags : byte
{
    None = 0,
    Letter = 1,
    Number = 2,
    Punctuation = 4,
    Symbol = 8,
    Mark = 16,
    Control = 32,
    Whitespace = 64,
    Separator = 128,
}

internal static class Unicode
{
    // The BMP is classified once up front: pre-tokenizers look at every code point of every prompt.
    private static readonly CpFlags[] Bmp = BuildBmp();

    public static CpFlags Flags(int cp) => (uint)cp < 0x10000 ? Bmp[cp] : Classify(cp);

    public static bool IsLetter(int cp) => (Flags(cp) & CpFlags.Letter) != 0;
    public static bool IsNumber(int cp) => (Flags(cp) & CpFlags.Number) != 0;
    public static bool IsPunctuation(int cp) => (Flags(cp) & CpFlags.Punctuation) != 0;
    public static bool IsWhitespace(int cp) => (Flags(cp) & CpFlags.Whitespace) != 0;

    private static CpFlags[] BuildBmp()
    {
        var t = new CpFlags[0x10000];
        for (var cp = 0; cp < t.Length; cp++) t[cp] = Classify(cp);
        return t;
    }

    private static CpFlags Classify(int cp)
    {
        if ((uint)cp > 0x10FFFF) return CpFlags.None;
        var f = CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CpFlags.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CpFlags.Number,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CpFlags.Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => CpFlags.Symbol,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CpFlags.Mark,
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse => CpFlags.Control,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CpFlags.Separator,
            _ => CpFlags.None, // unassigned
        };
        if (IsWhiteSpaceProperty(cp)) f |= CpFlags.Whitespace;
        return f;
    }

    // Unicode's White_Space property (PropList.txt), which is narrower than char.IsWhiteSpace.
    private static bool IsWhiteSpaceProperty(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Simple lowercase mapping of one code point.</summary>
    public static int ToLower(int cp) =>
        Rune.IsValid(cp) ? Rune.ToLowerInvariant(new Rune(cp)).Value : cp;

    /// <summary>The first code point of the canonical decomposition (which drops accents).</summary>
    public static int NfdFirst(int cp)
    {
        if (cp < 0xC0) return cp;
        if (cp is >= 0xAC00 and <= 0xD7A3) return 0x1100 + (cp - 0xAC00) / (21 * 28); // Hangul leading jamo
        var pairs = UnicodeNfdTable.Pairs;
        int lo = 0, hi = pairs.Length / 2 - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var key = pairs[2 * mid];
            if (key == cp) return pairs[2 * mid + 1];
            if (key < cp) lo = mid + 1;
            else hi = mid - 1;
        }
        return cp;
    }

    /// <summary>Decodes a string into code points; lone surrogates become U+FFFD (as UTF-8 encoding would).</summary>
    public static int[] CodePoints(ReadOnlySpan<char> text)
    {
        var result = new int[text.Length];
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            int c = text[i];
            if (char.IsHighSurrogate((char)c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result[n++] = char.ConvertToUtf32((char)c, text[++i]);
            }
            else
            {
                result[n++] = char.IsSurrogate((char)c) ? 0xFFFD : c;
            }
        }
        return n == result.Length ? result : result[..n];
    }

    /// <summary>Appends the UTF-8 encoding of a code point.</summary>
    public static int EncodeUtf8(int cp, Span<byte> dest)
    {
        if (cp < 0x80) { dest[0] = (byte)cp; return 1; }
        if (cp < 0x800) { dest[0] = (byte)(0xC0 | cp >> 6); dest[1] = (byte)(0x80 | cp & 0x3F); return 2; }
        if (cp < 0x10000)
        {
            dest[0] = (byte)(0xE0 | cp >> 12); dest[1] = (byte)(0x80 | cp >> 6 & 0x3F); dest[2] = (byte)(0x80 | cp & 0x3F);
            return 3;
        }
        dest[0] = (byte)(0xF0 | cp >> 18); dest[1] = (byte)(0x80 | cp >> 12 & 0x3F);
        dest[2] = (byte)(0x80 | cp >> 6 & 0x3F); dest[3] = (byte)(0x80 | cp & 0x3F);
        return 4;
    }
}
