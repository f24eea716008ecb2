namespace Kiln.Engine.Models;

/// <summary>The rows of one forward step: token, slot, position, and whether logits are wanted.</summary>
public sealed class Batch
{
    private int[] _tokens;
    private int[] _slots;
    private int[] _positions;
    private bool[] _wantLogits;

    public Batch(int capacity = 64)
    {
        _tokens = new int[capacity];
        _slots = new int[capacity];
        _positions = new int[capacity];
        _wantLogits = new bool[capacity];
    }

    public int Count { get; private set; }
    public int LogitRows { get; private set; }

    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Count);
    public ReadOnlySpan<int> Slots => _slots.AsSpan(0, Count);
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);
    public ReadOnlySpan<bool> WantLogits => _wantLogits.AsSpan(0, Count);

    public void Clear()
    {
        Count = 0;
        LogitRows = 0;
    }

    public void Add(int token, int slot, int position, bool wantLogits)
    {
        if (Count == _tokens.Length)
        {
            var n = Count * 2;
            Array.Resize(ref _tokens, n);
            Array.Resize(ref _slots, n);
            Array.Resize(ref _positions, n);
            Array.Resize(ref _wantLogits, n);
        }
        _tokens[Count] = token;
        _slots[Count] = slot;
        _positions[Count] = position;
        _wantLogits[Count] = wantLogits;
        Count++;
        if (wantLogits) LogitRows++;
    }
}
