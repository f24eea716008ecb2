using Kiln.Engine.Tensors;
using Kiln.Engine.Threading;

namespace Kiln.Engine.Models;

/// <summary>
/// y[s, r] = W[r] · x[s] for every activation row s, for one matrix or several that read the same
/// activations (a layer's Q, K and V; its gate and up), with all their rows split into parts across
/// the workers: one job, so one wait, instead of one per matrix.
/// Preallocated and reused, so dispatching a matmul allocates nothing.
/// </summary>
internal sealed unsafe class MatMulJob : IParallelJob
{
    /// <summary>Rows per unit of work: whole groups of the packed kernels' eight rows, twice over.</summary>
    private const int RowAlign = 16;

    private const int MaxTargets = 3;

    private readonly WeightMatrix?[] _w = new WeightMatrix?[MaxTargets];
    private readonly float[][] _y = new float[MaxTargets][];
    private readonly int[] _yStride = new int[MaxTargets];
    private readonly int[] _firstUnit = new int[MaxTargets];
    private int _count;
    private int _units;
    private byte[] _activations = [];
    private int _seqs;
    private LoraEpilogue? _lora;

    /// <summary>Runs <paramref name="lora"/> on each part's output rows after its base product; null for none. Single-matrix jobs only.</summary>
    public void SetEpilogue(LoraEpilogue? lora) => _lora = lora;

    /// <summary>Starts a job over <paramref name="seqs"/> quantized activation rows, with no matrices yet.</summary>
    public void Begin(byte[] activations, int seqs)
    {
        _activations = activations;
        _seqs = seqs;
        _count = 0;
        _units = 0;
    }

    /// <summary>Adds a matrix whose products go to y[s * yStride + r].</summary>
    public void Add(WeightMatrix w, float[] y, int yStride)
    {
        if (_count == MaxTargets) throw new InvalidOperationException($"a matmul job takes at most {MaxTargets} matrices");
        if (_lora is not null && _count > 0) throw new InvalidOperationException("a LoRA epilogue applies to a single-matrix job");
        _w[_count] = w;
        _y[_count] = y;
        _yStride[_count] = yStride;
        _firstUnit[_count] = _units;
        _units += (w.Rows + RowAlign - 1) / RowAlign;
        _count++;
    }

    public void Execute(int part, int parts, int thread)
    {
        var (first, last) = WorkerPool.Range(_units, part, parts);
        for (var i = 0; i < _count; i++)
        {
            var w = _w[i]!;
            var units = (w.Rows + RowAlign - 1) / RowAlign;
            var start = Math.Max(first, _firstUnit[i]) - _firstUnit[i];
            var end = Math.Min(last, _firstUnit[i] + units) - _firstUnit[i];
            if (start < end) Multiply(w, _y[i], _yStride[i], start * RowAlign, Math.Min(end * RowAlign, w.Rows), thread);
        }
    }

    private void Multiply(WeightMatrix w, float[] yArray, int yStride, int start, int end, int thread)
    {
        var actBytes = MatMul.ActivationRowBytes(w.Type, w.Cols);
        var activations = _activations.AsSpan(0, actBytes * _seqs);
        var y = yArray.AsSpan(0, (_seqs - 1) * yStride + w.Rows);
        if (w.Packed is { } packed)
        {
            fixed (float* py = y)
                packed.Multiply(activations, _seqs, py, yStride, start, end);
        }
        else
        {
            MatMul.Rows(w.Type, w.Bytes, w.RowBytes, w.Cols, activations, _seqs, y, yStride, start, end);
        }
        _lora?.Apply(thread, yArray, 0, yStride, start, end);
    }
}
