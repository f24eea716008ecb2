using System.Text;
using Kiln.Engine.Models;
using Kiln.Engine.Tokenizers;
using Kiln.Server.Replica;

namespace Kiln.Server.Tests.Replica;

/// <summary>Byte-level tokenizer: ids 0..255 are bytes, then BOS, EOS, &lt;|im_start|&gt;, &lt;|im_end|&gt;.</summary>
internal sealed class FakeTokenizer : ITokenizer
{
    public const int Bos = 256, Eos = 257, ImEnd = 259, Size = 260;
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
}

/// <summary>Each row predicts the next byte of its own token; 'z' predicts EOS. <see cref="Gate"/> can hold steps.</summary>
internal sealed class FakeModel(int contextLength = 256, int maxSlots = 8) : ILanguageModel
{
    private float[] _logits = new float[FakeTokenizer.Size * 8];

    public ModelInfo Info { get; } = new("fake", "fake", FakeTokenizer.Size, contextLength, maxSlots);
    public ManualResetEventSlim Gate { get; } = new(true);
    public bool Disposed { get; private set; }

    public ReadOnlySpan<float> Forward(Batch batch)
    {
        Gate.Wait();
        var need = batch.LogitRows * FakeTokenizer.Size;
        if (_logits.Length < need) _logits = new float[need];
        var row = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.WantLogits[i]) continue;
            var span = _logits.AsSpan(row++ * FakeTokenizer.Size, FakeTokenizer.Size);
            span.Clear();
            var t = batch.Tokens[i];
            span[t == 'z' ? FakeTokenizer.Eos : t < 256 ? (t + 1) & 0xFF : 'a'] = 10f;
        }
        return _logits.AsSpan(0, need);
    }

    public void Truncate(int slot, int fromPosition) { }
    public void Dispose() => Disposed = true;
}

/// <summary>Prompts with just the last message's text, so chat output is as predictable as completions.</summary>
internal sealed class LastMessageFormatter : IChatFormatter
{
    public string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt)
    {
        if (messages[^1].Content == "explode") throw new InvalidOperationException("template failed: bad role order");
        return messages[^1].Content;
    }
}
