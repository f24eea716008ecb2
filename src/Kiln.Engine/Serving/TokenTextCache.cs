using System.Text;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Serving;

/// <summary>
/// Display text and bytes per token id, built on first use, so logprob reports do not decode
/// the same tokens over and over. Written only from the scheduler thread.
/// </summary>
internal sealed class TokenTextCache(ITokenizer tokenizer)
{
    private readonly string?[] _text = new string?[tokenizer.VocabSize];
    private readonly byte[]?[] _bytes = new byte[]?[tokenizer.VocabSize];

    /// <summary>Strings of released text, shared by the sequences of the scheduler.</summary>
    public TextPieces Pieces { get; } = new();

    public string Text(int id)
    {
        if ((uint)id >= (uint)_text.Length) return string.Empty;
        return _text[id] ??= Decode(id);
    }

    public byte[] Bytes(int id)
    {
        if ((uint)id >= (uint)_bytes.Length) return [];
        return _bytes[id] ??= tokenizer.TokenBytes(id).ToArray();
    }

    // Control tokens contribute no bytes; show their piece (e.g. "<|im_end|>") instead.
    private string Decode(int id)
    {
        var bytes = tokenizer.TokenBytes(id);
        return bytes.IsEmpty ? tokenizer.TokenPiece(id) : Encoding.UTF8.GetString(bytes);
    }
}
