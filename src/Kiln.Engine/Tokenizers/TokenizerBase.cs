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
    }

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
        Encode(text, fragments, addSpecial, output);
        return [.. output];
    }

    private protected abstract void Encode(string text, List<Fragment> fragments, bool addSpecial, List<int> output);

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
