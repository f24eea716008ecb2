using System.Text;

namespace Kiln.Engine.Tokenizers;

/// <summary>
/// WordPiece tokenizer (GGUF model <c>bert</c>), matching llama.cpp: text is reduced to the first
/// code point of each character's canonical decomposition (dropping accents) and lowercased,
/// split at whitespace and around punctuation and CJK characters, and each word is covered by
/// longest-match pieces. GGUF stores word-initial pieces with a "▁" prefix and continuation pieces
/// without BERT's "##", so a word is matched as "▁word"; a word that cannot be covered becomes [UNK].
/// </summary>
public sealed class WordPieceTokenizer : TokenizerBase
{
    private const char Space = '\u2581';

    internal WordPieceTokenizer(Vocabulary vocab) : base(vocab, id => DecodePiece(vocab, id))
    {
    }

    /// <summary>WordPiece models frame every sequence with CLS and SEP.</summary>
    public override bool AddBos => true;
    public override bool AddEos => false;

    public int? ClsId => Vocab.Cls ?? Vocab.Bos;
    public int? SepId => Vocab.Sep;

    // An unknown word of any length is one token, so length says nothing about the count.
    private protected override bool CoversEveryCharacter => false;

    private protected override void Encode(string text, List<Fragment> fragments, bool addSpecial, List<int> output, int limit)
    {
        if (addSpecial) AddSpecialToken(ClsId, "CLS", output);
        var word = new StringBuilder();
        foreach (var f in fragments)
        {
            if (output.Count > limit) return;
            if (f.IsText) TokenizeText(text.AsSpan(f.Start, f.Length), word, output);
            else output.Add(f.Token);
        }
        if (addSpecial) AddSpecialToken(SepId, "SEP", output);
    }

    private void TokenizeText(ReadOnlySpan<char> text, StringBuilder word, List<int> output)
    {
        word.Clear().Append(Space);
        foreach (var cp0 in Unicode.CodePoints(text))
        {
            var cp = Unicode.NfdFirst(cp0);
            var flags = Unicode.Flags(cp);
            if ((flags & CpFlags.Whitespace) != 0)
            {
                FlushWord(word, output);
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || (flags & CpFlags.Control) != 0) continue;

            var lower = Unicode.ToLower(cp);
            if ((flags & CpFlags.Punctuation) != 0 || (cp < 0x7F && (flags & CpFlags.Symbol) != 0) || IsChinese(cp))
            {
                FlushWord(word, output);
                AppendCodePoint(word, lower);
                FlushWord(word, output);
            }
            else
            {
                AppendCodePoint(word, lower);
            }
        }
        FlushWord(word, output);
    }

    private static void AppendCodePoint(StringBuilder sb, int cp)
    {
        if (cp < 0x10000) sb.Append((char)cp);
        else sb.Append(char.ConvertFromUtf32(cp));
    }

    // Covers "▁word" with longest-match pieces; the whole word becomes [UNK] if any part fails.
    private void FlushWord(StringBuilder word, List<int> output)
    {
        if (word.Length <= 1) return;
        var text = word.ToString();
        word.Clear().Append(Space);

        var first = output.Count;
        var maxLen = Vocab.MaxPieceLength;
        for (var i = 0; i < text.Length;)
        {
            var matched = false;
            for (var j = Math.Min(text.Length, i + maxLen); j > i; j--)
            {
                var id = Vocab.Find(text.AsSpan(i, j - i));
                if (id < 0) continue;
                output.Add(id);
                i = j;
                matched = true;
                break;
            }
            if (!matched)
            {
                output.RemoveRange(first, output.Count - first);
                break;
            }
        }
        if (output.Count == first) output.Add(UnknownFor(text.AsSpan(1)));
    }

    // The CJK ideograph blocks BERT isolates (including its 0x2B920 quirk for extension D/E).
    private static bool IsChinese(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    private static byte[] DecodePiece(Vocabulary vocab, int id) => vocab.Kinds[id] switch
    {
        TokenKind.UserDefined => Encoding.UTF8.GetBytes(vocab.Pieces[id]),
        TokenKind.Normal => Encoding.UTF8.GetBytes(vocab.Pieces[id].Replace(Space, ' ')),
        _ => [],
    };
}
