using Kiln.Engine.Gguf;
using Kiln.Engine.Lora;
using Kiln.Engine.Tensors;
using Kiln.Engine.Threading;

namespace Kiln.Engine.Models;

/// <summary>
/// The llama-family forward pass (llama, qwen2): RMSNorm, GQA attention with RoPE over a per-slot
/// KV cache, SwiGLU feed-forward. Weights stay quantized (in the mapped file, or repacked for their
/// kernel: <see cref="WeightMatrix.Packed"/>); each matmul quantizes its input rows once and one pass
/// over the weights serves every row of the step. Registered LoRA adapters are applied per row on top
/// of the shared base matmuls (see <see cref="IAdapterHost"/>).
/// </summary>
public sealed class LlamaModel : ILanguageModel, IAdapterHost
{
    private readonly GgufFile _file;
    private readonly bool _ownsFile;
    private readonly LlamaWeights _w;
    private readonly KvCache _cache;
    private readonly Rope _rope;
    private readonly WorkerPool _pool;

    /// <summary>Parts each parallel job is split into: a few per thread, so a thread slowed by its neighbours hands work to the other.</summary>
    private readonly int _parts;
    private readonly MatMulJob _matmul = new();
    private readonly AttentionJob _attention;
    private readonly LoraEpilogue _lora;
    private readonly AdapterTable _adapters = new();
    private readonly int _qDim;
    private readonly int _kvDim;
    private readonly int _maxRows;

    // Per-step activations, [row][dim], grown on demand up to MaxBatchRows and then reused.
    private int _rows;
    private float[] _x = [], _xn = [], _q = [], _k = [], _v = [], _attn = [], _tmp = [], _gate = [], _up = [], _logits = [];
    private byte[] _act = [];
    private float[]? _actSource;
    private GgmlType _actType;
    private int _actRows = -1;

    public LlamaModel(GgufFile file, ModelOptions options, bool ownsFile = false)
    {
        _file = file;
        _ownsFile = ownsFile;
        Config = ModelConfig.FromGguf(file);
        _w = LlamaWeights.Load(file, Config);
        var ctx = options.ContextLength > 0 ? Math.Min(options.ContextLength, Config.ContextLength) : Config.ContextLength;
        if (options.MaxSlots < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxSlots must be at least 1");
        _qDim = Config.HeadCount * Config.HeadDim;
        _kvDim = Config.HeadCountKv * Config.HeadDim;
        _maxRows = Math.Max(1, options.MaxBatchRows);
        _cache = new KvCache(options.MaxSlots, Config.BlockCount, ctx, _kvDim, Config.HeadDim, options.KvCacheType);
        _rope = new Rope(Config, ctx, _w.RopeFreqFactors);
        _pool = new WorkerPool(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        _parts = _pool.Threads == 1 ? 1 : 4 * _pool.Threads;
        _attention = new AttentionJob(Config, _cache, _pool.Threads);
        _lora = new LoraEpilogue(_pool.Threads);
        Info = new ModelInfo(Config.Architecture, Config.Name, _w.VocabSize, ctx, options.MaxSlots);
    }

    /// <summary>Opens a GGUF file and builds the model, owning the file.</summary>
    public static LlamaModel Load(string path, ModelOptions options)
    {
        var file = GgufFile.Open(path);
        try
        {
            return new LlamaModel(file, options, ownsFile: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public ModelConfig Config { get; }
    public ModelInfo Info { get; }
    public GgufFile File => _file;
    public int Threads => _pool.Threads;

    /// <summary>The model's worker threads (tests probe their allocation counters).</summary>
    internal WorkerPool Pool => _pool;

    WorkerPool? ILanguageModel.Workers => _pool;

    public void Truncate(int slot, int fromPosition)
    {
        // Positions are overwritten before they are read again, so forgetting needs no work here.
        if ((uint)slot >= (uint)_cache.Slots) throw new ArgumentOutOfRangeException(nameof(slot));
    }

    public long KvBytesPerPosition => _cache.BytesPerPosition;

    public string KvFormat => $"{_cache.Type}:{_cache.Layers}x{_cache.KvDim}/{_cache.HeadDim}";

    public void SaveKv(int slot, int position, int count, Span<byte> destination) => _cache.Save(slot, position, count, destination);

    public void LoadKv(int slot, int position, int count, ReadOnlySpan<byte> source) => _cache.Load(slot, position, count, source);

    /// <summary>Checks an adapter against this model without registering it; throws <see cref="LoraMismatchException"/>.</summary>
    public void ValidateAdapter(LoraAdapter adapter) => adapter.Validate(Config, _w);

    public int RegisterAdapter(LoraAdapter adapter)
    {
        adapter.Validate(Config, _w);
        return _adapters.Add(new BoundAdapter(adapter, Config.BlockCount));
    }

    public bool UnregisterAdapter(int id) => _adapters.Remove(id);

    public ReadOnlySpan<float> Forward(Batch batch)
    {
        var n = batch.Count;
        if (n == 0) return [];
        if (n > _maxRows) throw new ArgumentException($"batch of {n} rows exceeds the limit of {_maxRows}");
        // One snapshot per step: adapters registered or removed meanwhile take effect next step.
        var adapters = batch.AdapterRows > 0 ? _adapters.Snapshot : null;
        Validate(batch, adapters);
        Ensure(n);
        var c = Config;
        var e = c.EmbeddingLength;
        var f = c.FeedForwardLength;

        for (var r = 0; r < n; r++) _w.TokenEmbedding.ReadRow(batch.Tokens[r], _x.AsSpan(r * e, e));

        for (var l = 0; l < c.BlockCount; l++)
        {
            var layer = _w.Layers[l];
            for (var r = 0; r < n; r++)
                VectorMath.RmsNorm(_x.AsSpan(r * e, e), layer.AttnNorm, c.RmsEpsilon, _xn.AsSpan(r * e, e));
            Invalidate();
            MulTogether(_xn, e, n, adapters, batch, l, (layer.Q, _q, _qDim, LoraModule.AttnQ),
                (layer.K, _k, _kvDim, LoraModule.AttnK), (layer.V, _v, _kvDim, LoraModule.AttnV));
            for (var r = 0; r < n; r++)
            {
                var q = _q.AsSpan(r * _qDim, _qDim);
                var k = _k.AsSpan(r * _kvDim, _kvDim);
                var v = _v.AsSpan(r * _kvDim, _kvDim);
                if (layer.QBias is not null) VectorMath.Add(q, layer.QBias);
                if (layer.KBias is not null) VectorMath.Add(k, layer.KBias);
                if (layer.VBias is not null) VectorMath.Add(v, layer.VBias);
                _rope.Apply(q, c.HeadCount, c.HeadDim, batch.Positions[r]);
                _rope.Apply(k, c.HeadCountKv, c.HeadDim, batch.Positions[r]);
                _cache.Store(batch.Slots[r], l, batch.Positions[r], k, v);
            }
            _attention.Set(batch, l, _q, _attn);
            _pool.Run(_attention, _parts);
            Invalidate();
            Mul(layer.O, _attn, _qDim, n, _tmp, e, adapters, batch, l, LoraModule.AttnOutput);
            VectorMath.Add(_x.AsSpan(0, n * e), _tmp.AsSpan(0, n * e));

            for (var r = 0; r < n; r++)
                VectorMath.RmsNorm(_x.AsSpan(r * e, e), layer.FfnNorm, c.RmsEpsilon, _xn.AsSpan(r * e, e));
            Invalidate();
            MulTogether(_xn, e, n, adapters, batch, l, (layer.Gate, _gate, f, LoraModule.FfnGate), (layer.Up, _up, f, LoraModule.FfnUp));
            for (var r = 0; r < n; r++) VectorMath.SwiGlu(_gate.AsSpan(r * f, f), _up.AsSpan(r * f, f));
            Invalidate();
            Mul(layer.Down, _gate, f, n, _tmp, e, adapters, batch, l, LoraModule.FfnDown);
            VectorMath.Add(_x.AsSpan(0, n * e), _tmp.AsSpan(0, n * e));
        }

        // Only rows that want logits pay for the output projection.
        var m = 0;
        for (var r = 0; r < n; r++)
        {
            if (!batch.WantLogits[r]) continue;
            VectorMath.RmsNorm(_x.AsSpan(r * e, e), _w.OutputNorm, c.RmsEpsilon, _xn.AsSpan(m * e, e));
            m++;
        }
        if (m == 0) return [];
        var vocab = _w.VocabSize;
        if (_logits.Length < m * vocab) _logits = new float[m * vocab];
        Invalidate();
        Mul(_w.Output, _xn, e, m, _logits, vocab);
        return _logits.AsSpan(0, m * vocab);
    }

    private void Validate(Batch batch, BoundAdapter?[]? adapters)
    {
        for (var r = 0; r < batch.Count; r++)
        {
            if (adapters is not null && batch.Adapters[r] is { } set)
            {
                foreach (var entry in set.Items)
                {
                    if ((uint)entry.AdapterId >= (uint)adapters.Length || adapters[entry.AdapterId] is not { } a)
                        throw new ArgumentException($"row {r} names adapter {entry.AdapterId}, which is not registered");
                    _lora.EnsureRank(a.MaxRank);
                }
            }
            if ((uint)batch.Tokens[r] >= (uint)_w.VocabSize)
                throw new ArgumentException($"token id {batch.Tokens[r]} is outside the vocabulary of {_w.VocabSize}");
            if ((uint)batch.Slots[r] >= (uint)_cache.Slots)
                throw new ArgumentException($"slot {batch.Slots[r]} is outside 0..{_cache.Slots - 1}");
            if ((uint)batch.Positions[r] >= (uint)_cache.ContextLength)
                throw new ArgumentException($"position {batch.Positions[r]} is outside the context of {_cache.ContextLength}");
        }
    }

    private void Ensure(int n)
    {
        if (n <= _rows) return;
        var rows = Math.Min(_maxRows, Math.Max(n, _rows * 2));
        var c = Config;
        _x = new float[rows * c.EmbeddingLength];
        _xn = new float[rows * c.EmbeddingLength];
        _tmp = new float[rows * c.EmbeddingLength];
        _q = new float[rows * _qDim];
        _attn = new float[rows * _qDim];
        _k = new float[rows * _kvDim];
        _v = new float[rows * _kvDim];
        _gate = new float[rows * c.FeedForwardLength];
        _up = new float[rows * c.FeedForwardLength];
        var widest = Math.Max(Math.Max(c.EmbeddingLength, c.FeedForwardLength), _qDim);
        _act = new byte[rows * (MatMul.ActivationRowBytes(GgmlType.F32, widest) + 64)];
        _rows = rows;
    }

    private void Invalidate() => _actRows = -1;

    /// <summary>As <see cref="Mul(WeightMatrix, float[], int, int, float[], int)"/>, plus each row's adapter updates of this module.</summary>
    private void Mul(WeightMatrix w, float[] input, int inStride, int rows, float[] output, int outStride,
        BoundAdapter?[]? adapters, Batch batch, int layer, LoraModule module)
    {
        if (adapters is null)
        {
            Mul(w, input, inStride, rows, output, outStride);
            return;
        }
        _lora.Set(adapters, batch, layer, module, input, inStride);
        _matmul.SetEpilogue(_lora);
        try
        {
            // One part per thread: each part recomputes its rows' small A·x products.
            Mul(w, input, inStride, rows, output, outStride, _pool.Threads);
        }
        finally
        {
            _matmul.SetEpilogue(null);
        }
    }

    /// <summary>output[r] = W · input[r] for r &lt; rows; the input's quantized form is reused across matmuls.</summary>
    private void Mul(WeightMatrix w, float[] input, int inStride, int rows, float[] output, int outStride)
        => Mul(w, input, inStride, rows, output, outStride, _parts);

    private void Mul(WeightMatrix w, float[] input, int inStride, int rows, float[] output, int outStride, int parts)
    {
        Quantize(w, input, inStride, rows);
        _matmul.Begin(_act, rows);
        _matmul.Add(w, output, outStride);
        _pool.Run(_matmul, parts);
    }

    /// <summary>
    /// Two or three matrices on the same input in one parallel job, so a step waits once for them, not
    /// once each; one job per matrix where adapters apply or their activation formats differ.
    /// </summary>
    private void MulTogether(float[] input, int inStride, int rows, BoundAdapter?[]? adapters, Batch batch, int layer,
        (WeightMatrix W, float[] Y, int Stride, LoraModule Module) a, (WeightMatrix W, float[] Y, int Stride, LoraModule Module) b,
        (WeightMatrix W, float[] Y, int Stride, LoraModule Module)? c = null)
    {
        var type = MatMul.ActivationType(a.W.Type);
        var shared = adapters is null && MatMul.ActivationType(b.W.Type) == type && b.W.Cols == a.W.Cols
            && (c is not { } cc || (MatMul.ActivationType(cc.W.Type) == type && cc.W.Cols == a.W.Cols));
        if (!shared)
        {
            Mul(a.W, input, inStride, rows, a.Y, a.Stride, adapters, batch, layer, a.Module);
            Mul(b.W, input, inStride, rows, b.Y, b.Stride, adapters, batch, layer, b.Module);
            if (c is { } third) Mul(third.W, input, inStride, rows, third.Y, third.Stride, adapters, batch, layer, third.Module);
            return;
        }
        Quantize(a.W, input, inStride, rows);
        _matmul.Begin(_act, rows);
        _matmul.Add(a.W, a.Y, a.Stride);
        _matmul.Add(b.W, b.Y, b.Stride);
        if (c is { } last) _matmul.Add(last.W, last.Y, last.Stride);
        _pool.Run(_matmul, _parts);
    }

    /// <summary>Quantizes input rows into the activation format of <paramref name="w"/>, unless they already are.</summary>
    private void Quantize(WeightMatrix w, float[] input, int inStride, int rows)
    {
        var actType = MatMul.ActivationType(w.Type);
        var actBytes = MatMul.ActivationRowBytes(w.Type, w.Cols);
        if (ReferenceEquals(_actSource, input) && _actType == actType && _actRows == rows)
            return;
        for (var r = 0; r < rows; r++)
            MatMul.QuantizeActivation(w.Type, input.AsSpan(r * inStride, w.Cols), _act.AsSpan(r * actBytes, actBytes));
        _actSource = input;
        _actType = actType;
        _actRows = rows;
    }

    public void Dispose()
    {
        _pool.Dispose();
        _cache.Dispose();
        _w.Dispose();
        if (_ownsFile) _file.Dispose();
    }
}
