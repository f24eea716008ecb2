using Kiln.Engine.Tensors;
using Kiln.Engine.Threading;

namespace Kiln.Engine.Models;

/// <summary>
/// y[s, r] = W[r] · x[s] for every activation row s, with W's rows split into parts across the workers.
/// Preallocated and reused, so dispatching a matmul allocates nothing.
/// </summary>
internal sealed unsafe class MatMulJob : IParallelJob
{
    private WeightMatrix? _w;
    private byte[] _activations = [];
    private int _seqs;
    private float[] _y = [];
    private int _yOffset;
    private int _yStride;
    private LoraEpilogue? _lora;

    /// <summary>Runs <paramref name="lora"/> on each worker's output rows after its base product; null for none.</summary>
    public void SetEpilogue(LoraEpilogue? lora) => _lora = lora;

    public void Set(WeightMatrix w, byte[] activations, int seqs, float[] y, int yOffset, int yStride)
    {
        _w = w;
        _activations = activations;
        _seqs = seqs;
        _y = y;
        _yOffset = yOffset;
        _yStride = yStride;
    }

    public void Execute(int part, int parts, int thread)
    {
        var w = _w!;
        var (start, end) = WorkerPool.Range(w.Rows, part, parts, align: 16);
        if (start >= end) return;
        var actBytes = MatMul.ActivationRowBytes(w.Type, w.Cols);
        var activations = _activations.AsSpan(0, actBytes * _seqs);
        var y = _y.AsSpan(_yOffset, (_seqs - 1) * _yStride + w.Rows);
        if (w.Packed is { } packed)
        {
            fixed (float* py = y)
                packed.Multiply(activations, _seqs, py, _yStride, start, end);
        }
        else
        {
            MatMul.Rows(w.Type, w.Bytes, w.RowBytes, w.Cols, activations, _seqs, y, _yStride, start, end);
        }
        _lora?.Apply(thread, _y, _yOffset, _yStride, start, end);
    }
}
