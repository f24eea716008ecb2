using Kiln.Engine.Lora;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Models;

/// <summary>
/// The LoRA epilogue of a matmul: y[s, r] += scale · B[r]·(A·x[s]) for every adapter of row s that
/// targets this layer's module. Each part of the matmul applies it to the output rows it just computed,
/// so no extra pass or barrier is needed; the small A·x product is recomputed per part into its
/// thread's scratch rather than shared, which would take a second synchronisation.
/// </summary>
internal sealed class LoraEpilogue
{
    private readonly float[][] _scratch;
    private BoundAdapter?[] _table = [];
    private Batch? _batch;
    private int _pairIndex;
    private float[] _x = [];
    private int _xStride;

    public LoraEpilogue(int threads)
    {
        _scratch = new float[threads][];
        for (var i = 0; i < threads; i++) _scratch[i] = [];
    }

    /// <summary>Grows the scratch for a new largest rank; happens after a registration, not per token.</summary>
    public void EnsureRank(int rank)
    {
        for (var i = 0; i < _scratch.Length; i++)
            if (_scratch[i].Length < rank) _scratch[i] = new float[rank];
    }

    public void Set(BoundAdapter?[] table, Batch batch, int layer, LoraModule module, float[] x, int xStride)
    {
        _table = table;
        _batch = batch;
        _pairIndex = layer * LoraModules.Count + (int)module;
        _x = x;
        _xStride = xStride;
    }

    /// <summary>Adds the updates to output rows [start, end) of every batch row.</summary>
    public void Apply(int thread, float[] y, int yOffset, int yStride, int start, int end)
    {
        var batch = _batch!;
        var sets = batch.Adapters;
        var t = _scratch[thread];
        for (var s = 0; s < batch.Count; s++)
        {
            if (sets[s] is not { } set) continue;
            foreach (var entry in set.Items)
            {
                if (_table[entry.AdapterId]!.Pairs[_pairIndex] is not { } p) continue;
                var x = _x.AsSpan(s * _xStride, p.In);
                var scale = entry.Scale * p.Factor;
                for (var k = 0; k < p.Rank; k++) t[k] = scale * VectorMath.Dot(p.A.AsSpan(k * p.In, p.In), x);
                var row = y.AsSpan(yOffset + s * yStride + start, end - start);
                for (var k = 0; k < p.Rank; k++)
                    VectorMath.AddScaled(row, p.BT.AsSpan(k * p.Out + start, end - start), t[k]);
            }
        }
    }
}
