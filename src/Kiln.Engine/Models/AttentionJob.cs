using Kiln.Engine.Tensors;
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
    private readonly float[][] _scores; // one scratch row per thread
    private Batch? _batch;
    private float[] _q = [];
    private float[] _out = [];
    private int _layer;

    public AttentionJob(ModelConfig c, KvCache cache, int workers)
    {
        _c = c;
        _cache = cache;
        _scores = new float[workers][];
        for (var i = 0; i < workers; i++) _scores[i] = new float[cache.ContextLength];
    }

    public void Set(Batch batch, int layer, float[] q, float[] output)
    {
        _batch = batch;
        _layer = layer;
        _q = q;
        _out = output;
    }

    public void Execute(int part, int parts, int thread)
    {
        var batch = _batch!;
        var heads = _c.HeadCount;
        var d = _c.HeadDim;
        var group = heads / _c.HeadCountKv;
        var qDim = heads * d;
        var scale = 1.0f / MathF.Sqrt(d);
        var (start, end) = WorkerPool.Range(batch.Count * heads, part, parts);
        var scores = _scores[thread];
        var f16 = _cache.Type == KvCacheType.F16;

        fixed (float* q0 = _q)
        fixed (float* out0 = _out)
        fixed (float* s = scores)
        {
            for (var item = start; item < end; item++)
            {
                var r = item / heads;
                var h = item % heads;
                var slot = batch.Slots[r];
                var len = batch.Positions[r] + 1;
                var kvHead = h / group;
                var q = q0 + r * qDim + h * d;
                var o = out0 + r * qDim + h * d;
                // F16 runs are prefetched one loop ahead: this head's values during its scores, the next
                // item's keys during this head's mix. The runs are short and scattered, so the hardware
                // prefetcher alone leaves attention waiting on memory. (For the F32 cache, twice the
                // prefetches per row cost more than they saved in measurements.)
                if (f16)
                {
                    var next = item + 1 < end ? item + 1 : item;
                    var nextKeys = (byte*)_cache.KeysF16(batch.Slots[next / heads], _layer, next % heads / group);
                    var values = (byte*)_cache.ValuesF16(slot, _layer, kvHead);
                    AttentionMath.Scores<KvHalf>(q, (byte*)_cache.KeysF16(slot, _layer, kvHead), d, len, d, scale, s, values);
                    AttentionMath.Softmax(s, len);
                    AttentionMath.Mix<KvHalf>(s, values, d, len, d, o, nextKeys);
                }
                else
                {
                    AttentionMath.Scores<F32Weight>(q, (byte*)_cache.KeysF32(slot, _layer, kvHead), d, len, d, scale, s);
                    AttentionMath.Softmax(s, len);
                    AttentionMath.Mix<F32Weight>(s, (byte*)_cache.ValuesF32(slot, _layer, kvHead), d, len, d, o);
                }
            }
        }
    }
}
