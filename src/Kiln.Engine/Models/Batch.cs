using Kiln.Engine.Lora;

namespace Kiln.Engine.Models;

/// <summary>
/// The rows of one forward step: token, slot, position, whether logits are wanted, and the adapters
/// (if any) the row runs with.
/// </summary>
public sealed class Batch
{
    private int[] _tokens;
    private int[] _slots;
    private int[] _positions;
    private bool[] _wantLogits;
    private LoraSet?[] _adapters;

    public Batch(int capacity = 64)
    {
        _tokens = new int[capacity];
        _slots = new int[capacity];
        _positions = new int[capacity];
        _wantLogits = new bool[capacity];
        _adapters = new LoraSet?[capacity];
    }

    public int Count { get; private set; }
    public int LogitRows { get; private set; }

    /// <summary>Rows that carry an adapter set; 0 lets the model skip the LoRA pass.</summary>
    public int AdapterRows { get; private set; }

    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Count);
    public ReadOnlySpan<int> Slots => _slots.AsSpan(0, Count);
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);
    public ReadOnlySpan<bool> WantLogits => _wantLogits.AsSpan(0, Count);
    public ReadOnlySpan<LoraSet?> Adapters => _adapters.AsSpan(0, Count);

    public void Clear()
    {
        // Drop the references so unloaded adapters' sets are not kept alive.
        Array.Clear(_adapters, 0, Count);
        Count = 0;
        LogitRows = 0;
        AdapterRows = 0;
    }

    public void Add(int token, int slot, int position, bool wantLogits, LoraSet? adapters = null)
    {
        if (Count == _tokens.Length)
        {
            var n = Count * 2;
            Array.Resize(ref _tokens, n);
            Array.Resize(ref _slots, n);
            Array.Resize(ref _positions, n);
            Array.Resize(ref _wantLogits, n);
            Array.Resize(ref _adapters, n);
        }
        _tokens[Count] = token;
        _slots[Count] = slot;
        _positions[Count] = position;
        _wantLogits[Count] = wantLogits;
        _adapters[Count] = adapters;
        Count++;
        if (wantLogits) LogitRows++;
        if (adapters is not null) AdapterRows++;
    }
}
