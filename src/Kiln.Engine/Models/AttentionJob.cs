using Kiln.Engine.Threading;

namespace Kiln.Engine.Models;

/// <summary>
/// Causal self-attention of every (row, head) pair of a step over its slot's cached keys and
/// values, split across workers. Each row attends to positions 0..its own position.
/// </summary>
internal sealed unsafe class AttentionJob : IParallelJob
{
    private readonly ModelConfig _c;
    private readonly KvCache _cache;
    private readonly float[][] _scores; // one scratch row per worker
    private readonly float[][] _keyScratch;
    private Batch? _batch;
    private float[] _q = [];
    private float[] _out = [];
    private int _layer;

    public AttentionJob(ModelConfig c, KvCache cache, int workers)
    {
        _c = c;
        _cache = cache;
        _scores = new float[workers][];
        _keyScratch = new float[workers][];
        for (var i = 0; i < workers; i++)
        {
            _scores[i] = new float[cache.ContextLength];
            _keyScratch[i] = new float[c.HeadDim * 2];
        }
    }

    public void Set(Batch batch, int layer, float[] q, float[] output)
    {
        _batch = batch;
        _layer = layer;
        _q = q;
        _out = output;
    }

    public void Execute(int worker, int workers)
    {
        var batch = _batch!;
        var heads = _c.HeadCount;
        var d = _c.HeadDim;
        var group = heads / _c.HeadCountKv;
        var qDim = heads * d;
        var kvDim = _cache.KvDim;
        var scale = 1.0f / MathF.Sqrt(d);
        var (start, end) = WorkerPool.Range(batch.Count * heads, worker, workers);
        var scores = _scores[worker];
        var scratch = _keyScratch[worker];
        var f16 = _cache.Type == KvCacheType.F16;

        for (var item = start; item < end; item++)
        {
            var r = item / heads;
            var h = item % heads;
            var slot = batch.Slots[r];
            var len = batch.Positions[r] + 1;
            var kvOffset = (h / group) * d;
            var q = new ReadOnlySpan<float>(_q, r * qDim + h * d, d);
            var s = scores.AsSpan(0, len);

            var max = float.NegativeInfinity;
            for (var t = 0; t < len; t++)
            {
                var k = f16
                    ? Widen(_cache.KeysF16(slot, _layer) + (long)t * kvDim + kvOffset, scratch.AsSpan(0, d))
                    : new ReadOnlySpan<float>(_cache.KeysF32(slot, _layer) + (long)t * kvDim + kvOffset, d);
                var v = VectorMath.Dot(q, k) * scale;
                s[t] = v;
                if (v > max) max = v;
            }
            double sum = 0;
            for (var t = 0; t < len; t++)
            {
                var e = MathF.Exp(s[t] - max);
                s[t] = e;
                sum += e;
            }
            var inv = (float)(1.0 / sum);

            var o = new Span<float>(_out, r * qDim + h * d, d);
            o.Clear();
            for (var t = 0; t < len; t++)
            {
                var v = f16
                    ? Widen(_cache.ValuesF16(slot, _layer) + (long)t * kvDim + kvOffset, scratch.AsSpan(d, d))
                    : new ReadOnlySpan<float>(_cache.ValuesF32(slot, _layer) + (long)t * kvDim + kvOffset, d);
                VectorMath.AddScaled(o, v, s[t] * inv);
            }
        }
    }

    private static ReadOnlySpan<float> Widen(Half* src, Span<float> dst)
    {
        for (var i = 0; i < dst.Length; i++) dst[i] = (float)src[i];
        return dst;
    }
}
