using Kiln.Engine.Lora;
using Kiln.Engine.Threading;

namespace Kiln.Engine.Models;

/// <summary>
/// Adds each row's low-rank updates after a base matmul: y[s] += scale · B·(A·x[s]) for every
/// adapter of row s that targets this layer's module. Rows are split across the workers; the rank-
/// sized intermediate lives in per-worker scratch, so nothing is allocated per step.
/// </summary>
internal sealed class LoraJob : IParallelJob
{
    private readonly float[][] _scratch;
    private BoundAdapter?[] _table = [];
    private Batch? _batch;
    private int _pairIndex;
    private float[] _x = [];
    private int _xStride;
    private float[] _y = [];
    private int _yStride;

    public LoraJob(int workers)
    {
        _scratch = new float[workers][];
        for (var i = 0; i < workers; i++) _scratch[i] = [];
    }

    /// <summary>Grows the scratch for a new largest rank; called when the table changes, not per token.</summary>
    public void EnsureRank(int rank)
    {
        for (var i = 0; i < _scratch.Length; i++)
            if (_scratch[i].Length < rank) _scratch[i] = new float[rank];
    }

    public void Set(BoundAdapter?[] table, Batch batch, int layer, LoraModule module, float[] x, int xStride, float[] y, int yStride)
    {
        _table = table;
        _batch = batch;
        _pairIndex = layer * LoraModules.Count + (int)module;
        _x = x;
        _xStride = xStride;
        _y = y;
        _yStride = yStride;
    }

    public void Execute(int worker, int workers)
    {
        var batch = _batch!;
        var (start, end) = WorkerPool.Range(batch.Count, worker, workers);
        var sets = batch.Adapters;
        var t = _scratch[worker];
        for (var s = start; s < end; s++)
        {
            if (sets[s] is not { } set) continue;
            foreach (var entry in set.Items)
            {
                if (_table[entry.AdapterId]!.Pairs[_pairIndex] is not { } p) continue;
                var x = _x.AsSpan(s * _xStride, p.In);
                var y = _y.AsSpan(s * _yStride, p.Out);
                for (var k = 0; k < p.Rank; k++) t[k] = VectorMath.Dot(p.A.AsSpan(k * p.In, p.In), x);
                var scale = entry.Scale * p.Factor;
                for (var k = 0; k < p.Rank; k++) VectorMath.AddScaled(y, p.BT.AsSpan(k * p.Out, p.Out), scale * t[k]);
            }
        }
    }
}
