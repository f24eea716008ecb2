namespace Kiln.Engine.Tokenizers;

/// <summary>What every GGUF tokenizer shares: the vocabulary, special ids and precomputed token bytes.</summary>
public abstract class TokenizerBase : ITokenizer
{
    private protected readonly Vocabulary Vocab;
    private readonly byte[][] _bytes;

    private protected TokenizerBase(Vocabulary vocab, Func<int, byte[]> decode)
    {
        Vocab = vocab;
        _bytes = vocab.BuildTokenBytes(decode);
        _longestPiece = Math.Max(2, vocab.Pieces.Max(p => System.Text.Encoding.UTF8.GetByteCount(p)));
    }

    // UTF-8 bytes of the longest piece (at least a surrogate pair): no token covers more input than this.
    private readonly int _longestPiece;

    /// <summary>
    /// True when every token covers at most as much input as its piece and no input is dropped, so
    /// the text's length bounds its token count from below (false: no such bound is used).
    /// </summary>
    private protected abstract bool CoversEveryCharacter { get; }

    public int VocabSize => Vocab.Count;
    public int? BosId => Vocab.Bos;
    public int? EosId => Vocab.Eos;
    public int? UnknownId => Vocab.Unk;
    public IReadOnlySet<int> EndOfGenerationIds => Vocab.EndOfGeneration;
    public virtual bool AddBos => Vocab.AddBos;
    public virtual bool AddEos => Vocab.AddEos;

    public int[] Encode(string text, bool addSpecial, bool parseSpecial)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fragments = SpecialTokenSplitter.Split(text, Vocab, parseSpecial);
        var output = new List<int>(text.Length / 3 + 4);
        Encode(text, fragments, addSpecial, output, int.MaxValue);
        return [.. output];
    }

    public int[]? EncodeAtMost(string text, bool addSpecial, bool parseSpecial, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (MinTokens(text) > maxTokens) return null;
        // Past the bound the text is at most maxTokens pieces long, so encoding it in full is cheap;
        // the encoders still stop between words or fragments once the count passes the limit.
        var fragments = SpecialTokenSplitter.Split(text, Vocab, parseSpecial);
        var output = new List<int>(Math.Min(text.Length / 3, maxTokens) + 4);
        Encode(text, fragments, addSpecial, output, maxTokens);
        return output.Count <= maxTokens ? [.. output] : null;
    }

    /// <summary>
    /// A lower bound on the tokens of <paramref name="text"/> without tokenizing it. Each token covers
    /// at most the longest piece's length of input (UTF-8 bytes for byte-level BPE, UTF-16 chars for
    /// SentencePiece, both at most the piece's UTF-8 length; byte fallback covers less); only ASCII
    /// whitespace beside a stripping special token is covered by no token at all.
    /// </summary>
    public long MinTokens(string text)
    {
        if (!CoversEveryCharacter) return 0;
        long covered = text.Length;
        if (Vocab.LStrip.Count > 0 || Vocab.RStrip.Count > 0)
        {
            foreach (var c in text)
            {
                if (c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') covered--;
            }
        }
        return (covered + _longestPiece - 1) / _longestPiece;
    }

    /// <summary>
    /// Appends the tokens of <paramref name="fragments"/>; may stop early, between words or fragments,
    /// once <paramref name="output"/> holds more than <paramref name="limit"/> tokens.
    /// </summary>
    private protected abstract void Encode(string text, List<Fragment> fragments, bool addSpecial, List<int> output, int limit);

    public ReadOnlySpan<byte> TokenBytes(int id) => _bytes[CheckId(id)];

    public string TokenPiece(int id) => Vocab.Pieces[CheckId(id)];

    public TokenKind Kind(int id) => Vocab.Kinds[CheckId(id)];

    /// <summary>The id of a vocabulary piece, or null.</summary>
    public int? FindPiece(string piece) => Vocab.Find(piece) is var id and >= 0 ? id : null;

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)Vocab.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary of {Vocab.Count}");
        return id;
    }

    private protected void AddSpecialToken(int? id, string what, List<int> output) =>
        output.Add(id ?? throw new InvalidOperationException($"the model asks for a {what} token but its vocabulary defines none"));

    /// <summary>The token for text the vocabulary cannot represent: unknown, or a clear error.</summary>
    private protected int UnknownFor(ReadOnlySpan<char> text)
    {
        if (Vocab.Unk is { } unk) return unk;
        System.Text.Rune.DecodeFromUtf16(text, out var rune, out _);
        throw new TokenizationException(
            $"cannot tokenize U+{rune.Value:X4}: the vocabulary has no piece, byte-fallback token or unknown token for it");
    }
}

/// <summary>Text the model's vocabulary cannot express.</summary>
public sealed class TokenizationException(string message) : Exception(message);
