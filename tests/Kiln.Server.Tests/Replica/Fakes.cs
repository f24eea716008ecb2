using System.Text;
using Kiln.Engine.Models;
using Kiln.Engine.Tokenizers;
using Kiln.Server.Replica;

namespace Kiln.Server.Tests.Replica;

/// <summary>Each row predicts the next byte of its own token; 'z' predicts EOS. <see cref="Gate"/> can hold steps.</summary>
internal sealed class FakeModel(int contextLength = 256, int maxSlots = 8) : ILanguageModel
{
    private float[] _logits = new float[FakeTokenizer.Size * 8];

    public ModelInfo Info { get; } = new("fake", "fake", FakeTokenizer.Size, contextLength, maxSlots);
    public ManualResetEventSlim Gate { get; } = new(true);
    public bool Disposed { get; private set; }
    private int _forwards;
    public int Forwards => Volatile.Read(ref _forwards);

    public ReadOnlySpan<float> Forward(Batch batch)
    {
        Gate.Wait();
        Interlocked.Increment(ref _forwards);
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
