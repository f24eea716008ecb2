using System.Runtime.InteropServices;

namespace Kiln.Engine.Models;

/// <summary>
/// Keys and values of every slot, layer and position in one native block per slot, allocated up
/// front but only made resident by the OS as positions are written.
/// Layout per slot: [layer][K|V][position][kvDim].
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly void*[] _slots;
    private readonly long _layerStride;
    private readonly long _elementSize;

    public KvCache(int slots, int layers, int contextLength, int kvDim, KvCacheType type)
    {
        Slots = slots;
        Layers = layers;
        ContextLength = contextLength;
        KvDim = kvDim;
        Type = type;
        _elementSize = type == KvCacheType.F32 ? 4 : 2;
        _layerStride = 2L * contextLength * kvDim;
        _slots = new void*[slots];
        for (var s = 0; s < slots; s++)
            _slots[s] = NativeMemory.Alloc((nuint)(layers * _layerStride * _elementSize));
    }

    public int Slots { get; }
    public int Layers { get; }
    public int ContextLength { get; }
    public int KvDim { get; }
    public KvCacheType Type { get; }

    /// <summary>Bytes one slot holds when full, for memory planning.</summary>
    public long BytesPerSlot => Layers * _layerStride * _elementSize;

    /// <summary>Element offset of position 0 of K (or V) for a slot and layer.</summary>
    private long Offset(int layer, bool value) => layer * _layerStride + (value ? (long)ContextLength * KvDim : 0);

    public float* KeysF32(int slot, int layer) => (float*)_slots[slot] + Offset(layer, false);
    public float* ValuesF32(int slot, int layer) => (float*)_slots[slot] + Offset(layer, true);
    public Half* KeysF16(int slot, int layer) => (Half*)_slots[slot] + Offset(layer, false);
    public Half* ValuesF16(int slot, int layer) => (Half*)_slots[slot] + Offset(layer, true);

    public void Store(int slot, int layer, int position, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        var at = (long)position * KvDim;
        if (Type == KvCacheType.F32)
        {
            k.CopyTo(new Span<float>(KeysF32(slot, layer) + at, KvDim));
            v.CopyTo(new Span<float>(ValuesF32(slot, layer) + at, KvDim));
        }
        else
        {
            var kd = KeysF16(slot, layer) + at;
            var vd = ValuesF16(slot, layer) + at;
            for (var i = 0; i < KvDim; i++)
            {
                kd[i] = (Half)k[i];
                vd[i] = (Half)v[i];
            }
        }
    }

    public void Dispose()
    {
        for (var s = 0; s < _slots.Length; s++)
        {
            NativeMemory.Free(_slots[s]);
            _slots[s] = null;
        }
    }
}
