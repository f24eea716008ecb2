namespace Kiln.Engine.Models;

/// <summary>
/// Keys and values of every slot, layer and position in one native block per slot, allocated up
/// front on huge pages (<see cref="HugePageMemory"/>): the warm-up's short sequences, which write the
/// first positions of every head's run, then make the whole cache resident before a replica reports
/// ready, instead of the first requests faulting it in page by page.
/// Layout per slot: [layer][K|V][kv head][position][head dim], so attention over one head streams
/// its keys and values as one contiguous run instead of a strided slice of every position.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly void*[] _slots;
    private readonly long _layerStride;
    private readonly long _elementSize;

    public KvCache(int slots, int layers, int contextLength, int kvDim, int headDim, KvCacheType type)
    {
        if (headDim <= 0 || kvDim % headDim != 0)
            throw new ArgumentException($"kv width {kvDim} is not a whole number of {headDim}-wide heads", nameof(headDim));
        Slots = slots;
        Layers = layers;
        ContextLength = contextLength;
        KvDim = kvDim;
        HeadDim = headDim;
        Type = type;
        _elementSize = type == KvCacheType.F32 ? 4 : 2;
        _layerStride = 2L * contextLength * kvDim;
        _slots = new void*[slots];
        for (var s = 0; s < slots; s++)
            _slots[s] = HugePageMemory.Alloc(layers * _layerStride * _elementSize);
    }

    public int Slots { get; }
    public int Layers { get; }
    public int ContextLength { get; }
    public int KvDim { get; }
    public int HeadDim { get; }
    public KvCacheType Type { get; }

    /// <summary>Bytes one slot holds when full, for memory planning.</summary>
    public long BytesPerSlot => Layers * _layerStride * _elementSize;

    /// <summary>Element offset of position 0 of one kv head's K (or V) for a slot and layer; positions follow HeadDim apart.</summary>
    private long Offset(int layer, bool value, int kvHead)
        => layer * _layerStride + (value ? (long)ContextLength * KvDim : 0) + (long)kvHead * ContextLength * HeadDim;

    public float* KeysF32(int slot, int layer, int kvHead) => (float*)_slots[slot] + Offset(layer, false, kvHead);
    public float* ValuesF32(int slot, int layer, int kvHead) => (float*)_slots[slot] + Offset(layer, true, kvHead);
    public Half* KeysF16(int slot, int layer, int kvHead) => (Half*)_slots[slot] + Offset(layer, false, kvHead);
    public Half* ValuesF16(int slot, int layer, int kvHead) => (Half*)_slots[slot] + Offset(layer, true, kvHead);

    /// <summary>Writes one position's keys and values (KvDim each, heads back to back) into every head's run.</summary>
    public void Store(int slot, int layer, int position, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        var at = (long)position * HeadDim;
        for (var h = 0; h < KvDim / HeadDim; h++)
        {
            var kh = k.Slice(h * HeadDim, HeadDim);
            var vh = v.Slice(h * HeadDim, HeadDim);
            if (Type == KvCacheType.F32)
            {
                kh.CopyTo(new Span<float>(KeysF32(slot, layer, h) + at, HeadDim));
                vh.CopyTo(new Span<float>(ValuesF32(slot, layer, h) + at, HeadDim));
            }
            else
            {
                KvHalf.Store(kh, (ushort*)(KeysF16(slot, layer, h) + at));
                KvHalf.Store(vh, (ushort*)(ValuesF16(slot, layer, h) + at));
            }
        }
    }

    /// <summary>Bytes one position holds across every layer, K and V.</summary>
    public long BytesPerPosition => Layers * 2L * KvDim * _elementSize;

    /// <summary>
    /// Copies positions [<paramref name="position"/>, +<paramref name="count"/>) of a slot into
    /// <paramref name="destination"/> (<see cref="BytesPerPosition"/> × count bytes), as one run per
    /// layer, K|V and kv head, the slot's own order.
    /// </summary>
    public void Save(int slot, int position, int count, Span<byte> destination)
    {
        fixed (byte* buffer = destination) CopyRuns(slot, position, count, buffer, destination.Length, toSlot: false);
    }

    /// <summary>The inverse of <see cref="Save"/>: writes saved positions back into a slot (at the same positions).</summary>
    public void Load(int slot, int position, int count, ReadOnlySpan<byte> source)
    {
        fixed (byte* buffer = source) CopyRuns(slot, position, count, buffer, source.Length, toSlot: true);
    }

    private void CopyRuns(int slot, int position, int count, byte* buffer, int bufferBytes, bool toSlot)
    {
        if ((uint)slot >= (uint)Slots) throw new ArgumentOutOfRangeException(nameof(slot));
        if (position < 0 || count < 0 || position + count > ContextLength)
            throw new ArgumentOutOfRangeException(nameof(count), $"positions {position}..{position + count} are outside the context of {ContextLength}");
        if (bufferBytes != BytesPerPosition * count)
            throw new ArgumentException($"{count} positions take {BytesPerPosition * count} bytes, the buffer has {bufferBytes}");
        var heads = KvDim / HeadDim;
        var bytes = count * HeadDim * _elementSize;
        var at = buffer;
        for (var layer = 0; layer < Layers; layer++)
            for (var part = 0; part < 2; part++)
                for (var h = 0; h < heads; h++)
                {
                    var run = (byte*)_slots[slot] + (Offset(layer, part == 1, h) + (long)position * HeadDim) * _elementSize;
                    if (toSlot) Buffer.MemoryCopy(at, run, bytes, bytes);
                    else Buffer.MemoryCopy(run, at, bytes, bytes);
                    at += bytes;
                }
    }

    public void Dispose()
    {
        for (var s = 0; s < _slots.Length; s++)
        {
            HugePageMemory.Free(_slots[s]);
            _slots[s] = null;
        }
    }
}
