using System.Text;
using Kiln.Engine.Tokenizers;

namespace Kiln.Tests.Shared;

/// <summary>Byte-level tokenizer: ids 0..255 are bytes, then BOS, EOS, &lt;|im_start|&gt;, &lt;|im_end|&gt;.</summary>
internal sealed class FakeTokenizer : ITokenizer
{
    public const int Bos = 256, Eos = 257, ImStart = 258, ImEnd = 259, Size = 260;
    private static readonly string[] Specials = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"];
    private static readonly byte[][] ByteTokens = [.. Enumerable.Range(0, 256).Select(b => new[] { (byte)b })];

    public int VocabSize => Size;
    public int? BosId => Bos;
    public int? EosId => Eos;
    public IReadOnlySet<int> EndOfGenerationIds { get; } = new HashSet<int> { ImEnd };
    public bool AddBos { get; init; }
    public bool AddEos => false;

    public int[] Encode(string text, bool addSpecial, bool parseSpecial)
    {
        var ids = new List<int>();
        if (addSpecial && AddBos) ids.Add(Bos);
        var i = 0;
        while (i < text.Length)
        {
            var special = parseSpecial ? Array.FindIndex(Specials, s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0) : -1;
            if (special >= 0)
            {
                ids.Add(Bos + special);
                i += Specials[special].Length;
                continue;
            }
            var len = char.IsSurrogatePair(text, i) ? 2 : 1;
            ids.AddRange(Encoding.UTF8.GetBytes(text.Substring(i, len)).Select(b => (int)b));
            i += len;
        }
        return [.. ids];
    }

    public ReadOnlySpan<byte> TokenBytes(int id) => id < 256 ? ByteTokens[id] : [];

    public string TokenPiece(int id) => id < 256 ? ((char)id).ToString() : Specials[id - Bos];

    public TokenKind Kind(int id) => id < 256 ? TokenKind.Byte : TokenKind.Control;

    public static int[] Bytes(string text) => [.. Encoding.UTF8.GetBytes(text).Select(b => (int)b)];
}
