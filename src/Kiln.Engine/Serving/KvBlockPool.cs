namespace Kiln.Engine.Serving;

/// <summary>
/// Fixed-size blocks of saved KV in one native arena sized to a byte budget: the pool holds at most
/// budget / block size blocks and never more, whatever is asked of it. Pages (huge ones, see
/// <see cref="Models.HugePageMemory"/>; blocks are rented in address order) become resident only as
/// blocks are written, so an idle budget costs address space, not memory.
/// </summary>
internal sealed unsafe class KvBlockPool : IDisposable
{
    private byte* _arena;
    private readonly Stack<int> _free;

    public KvBlockPool(long budgetBytes, long blockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockBytes, int.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        BlockBytes = (int)blockBytes;
        Capacity = (int)Math.Min(budgetBytes / blockBytes, int.MaxValue);
        _free = new Stack<int>(Enumerable.Range(0, Capacity).Reverse());
        _arena = Capacity == 0 ? null : (byte*)Models.HugePageMemory.Alloc((long)Capacity * BlockBytes);
    }

    public int BlockBytes { get; }
    public int Capacity { get; }
    public int InUse => Capacity - _free.Count;

    public bool TryRent(out int block) => _free.TryPop(out block);

    public void Return(int block)
    {
        if ((uint)block >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(block));
        _free.Push(block);
    }

    public Span<byte> this[int block]
    {
        get
        {
            if ((uint)block >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(block));
            return new Span<byte>(_arena + (long)block * BlockBytes, BlockBytes);
        }
    }

    public void Dispose()
    {
        if (_arena != null) Models.HugePageMemory.Free(_arena);
        _arena = null;
    }
}
