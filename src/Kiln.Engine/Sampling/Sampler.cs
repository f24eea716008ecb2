using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Picks tokens for one sequence. All scratch space is allocated once, sized to the vocabulary,
/// so sampling allocates nothing per token. Not thread-safe: one sampler per sequence.
/// </summary>
public sealed class Sampler
{
    // Past this many candidates top_p first tries the best 1024 only, sorting everything
    // solely when those do not reach the requested mass.
    private const int TopPPrefilter = 1024;
    private const int MaxRepetitionWindow = 1 << 16;

    private readonly SamplingParams _p;
    private readonly int _vocab;
    private readonly float[] _work;
    private readonly int[] _ids;
    private readonly float[] _weights;
    private readonly float[] _values;
    private readonly double[] _blockSums;
    private readonly ulong[] _sortKeys;
    // top_k's selection copies between these and _ids/_values instead of compacting in place.
    private readonly int[] _spareIds;
    private readonly float[] _spareValues;
    private readonly int[] _biasIds;
    private readonly float[] _biasValues;
    private readonly NucleusPick? _nucleus;
    private readonly TokenLogprob[] _top;
    private readonly int _topWanted;
    private readonly bool _wantLogprobs;

    // Repetition window (prompt and output) and generated-token counts (output only).
    private readonly int[] _window;
    private int _windowHead, _windowCount;
    private readonly int[] _seenStamp;
    private int _stamp;
    private readonly int[] _genCounts;
    private readonly int[] _genDistinct;
    private int _genDistinctCount;

    private Xoshiro256 _rng;
    private int _topCount;
    private float _preparedLse;

    public Sampler(int vocabSize, SamplingParams p)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        p.Validate(vocabSize);
        _p = p;
        _vocab = vocabSize;
        _work = new float[vocabSize];
        _ids = new int[vocabSize];
        _weights = new float[vocabSize];
        _values = new float[vocabSize];
        _sortKeys = p.TopP < 1f ? new ulong[vocabSize] : [];
        _spareIds = p.TopK > 0 ? new int[vocabSize] : [];
        _spareValues = p.TopK > 0 ? new float[vocabSize] : [];
        // top_k leaves few enough candidates that sorting them is cheap.
        _nucleus = p.TopP < 1f && p.TopK == 0 ? new NucleusPick(vocabSize) : null;
        _blockSums = new double[(vocabSize + SoftmaxKernels.Block - 1) / SoftmaxKernels.Block];
        _rng = p.Seed is { } seed ? new Xoshiro256(seed) : Xoshiro256.FromEntropy();

        var bias = p.LogitBias ?? new Dictionary<int, float>();
        _biasIds = [.. bias.Keys];
        _biasValues = [.. bias.Values];

        _wantLogprobs = p.Logprobs || p.TopLogprobs > 0;
        _topWanted = p.TopLogprobs;
        _top = new TokenLogprob[p.TopLogprobs];

        var usesWindow = p.RepetitionPenalty != 1f && p.RepetitionLastN > 0;
        _window = new int[usesWindow ? Math.Min(p.RepetitionLastN, MaxRepetitionWindow) : 0];
        _seenStamp = usesWindow ? new int[vocabSize] : [];
        var usesCounts = p.PresencePenalty != 0f || p.FrequencyPenalty != 0f;
        _genCounts = usesCounts ? new int[vocabSize] : [];
        _genDistinct = usesCounts ? new int[vocabSize] : [];
    }

    public SamplingParams Params => _p;

    /// <summary>Log-probability of the last sampled or scored token (when logprobs were requested).</summary>
    public float ChosenLogprob { get; private set; }

    /// <summary>The most likely tokens at the last sampled or scored position, best first.</summary>
    public ReadOnlySpan<TokenLogprob> TopLogprobs => _top.AsSpan(0, _topCount);

    /// <summary>Feeds context tokens into the repetition window without counting them as output.</summary>
    public void AcceptPrompt(ReadOnlySpan<int> tokens)
    {
        if (_window.Length == 0) return;
        var start = Math.Max(0, tokens.Length - _window.Length);
        foreach (var t in tokens[start..]) PushWindow(t);
    }

    /// <summary>Samples the next token and remembers it for the penalties.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        CheckLength(logits);
        // The logits are read in place unless a bias or a penalty changes them: copying 32k floats
        // first cost as much as a greedy pick. top_p still copies: its several passes over the logits
        // measured no faster in place, and its own copy stays in this core's cache between them.
        var x = logits;
        if (ChangesLogits || _nucleus is not null)
        {
            logits.CopyTo(_work);
            ApplyBias(_work);
            x = _work;
        }
        var lse = _wantLogprobs ? ComputeTop(x) : 0f;
        ApplyPenalties();

        var token = _p.Temperature == 0f || _p.TopK == 1 ? ArgMax(x) : SampleFiltered(x);

        if (_wantLogprobs) ChosenLogprob = logits[token] + BiasOf(token) - lse;
        Accept(token);
        return token;
    }

    /// <summary>
    /// Writes the distribution <see cref="Sample"/> would draw from at this position (bias, penalties,
    /// filters and temperature applied; greedy is a point mass on its pick) into <paramref name="probs"/>
    /// and fills <see cref="TopLogprobs"/>, without drawing. Speculative decoding verifies draft tokens
    /// against it; <see cref="Commit"/> then records the token chosen.
    /// </summary>
    public void Distribution(ReadOnlySpan<float> logits, Span<float> probs)
    {
        CheckLength(logits);
        if (probs.Length < _vocab) throw new ArgumentException($"expected room for {_vocab} probabilities", nameof(probs));
        probs = probs[.._vocab];
        logits.CopyTo(_work);
        ApplyBias(_work);
        _preparedLse = _wantLogprobs ? ComputeTop(_work) : 0f;
        ApplyPenalties();
        probs.Clear();
        var max = SoftmaxKernels.Max(_work);
        if (_p.Temperature == 0f || _p.TopK == 1 || !(max > float.NegativeInfinity))
        {
            probs[ArgMax(_work)] = 1f;
            return;
        }
        var invT = 1f / _p.Temperature;
        var threshold = _p.MinP > 0f ? max + MathF.Log(_p.MinP) : float.MinValue;
        var n = Survivors(_work, new LogitOrder(_work), max, threshold);
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            var w = MathF.Exp((_work[_ids[i]] - max) * invT);
            probs[_ids[i]] = w;
            sum += w;
        }
        var scale = (float)(1.0 / sum);
        for (var i = 0; i < n; i++) probs[_ids[i]] *= scale;
    }

    /// <summary>Records <paramref name="token"/> as chosen at the position last given to <see cref="Distribution"/>: its logprob, and the penalties' history.</summary>
    public void Commit(ReadOnlySpan<float> logits, int token)
    {
        CheckLength(logits);
        if (_wantLogprobs) ChosenLogprob = logits[token] + BiasOf(token) - _preparedLse;
        Accept(token);
    }

    /// <summary>A uniform draw in [0, 1) from this sampler's generator (seeded like its samples).</summary>
    public double NextUniform() => _rng.NextDouble();

    /// <summary>Computes logprobs of a given token (e.g. a prompt token when echoing) without sampling.</summary>
    public void Score(ReadOnlySpan<float> logits, int token)
    {
        CheckLength(logits);
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, _vocab);
        logits.CopyTo(_work);
        ApplyBias(_work);
        var lse = ComputeTop(_work);
        ChosenLogprob = _work[token] - lse;
    }

    /// <summary>Whether a bias or a penalty applies at this position (the penalties only once there is history).</summary>
    private bool ChangesLogits => _biasIds.Length > 0 || (_window.Length > 0 && _windowCount > 0) || _genDistinctCount > 0;

    private void CheckLength(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _vocab)
            throw new ArgumentException($"expected {_vocab} logits, got {logits.Length}", nameof(logits));
    }

    private void ApplyBias(float[] work)
    {
        for (var i = 0; i < _biasIds.Length; i++)
        {
            var b = _biasValues[i];
            work[_biasIds[i]] = b <= -100f ? float.NegativeInfinity : work[_biasIds[i]] + b;
        }
    }

    private float BiasOf(int token)
    {
        for (var i = 0; i < _biasIds.Length; i++)
            if (_biasIds[i] == token) return _biasValues[i] <= -100f ? float.NegativeInfinity : _biasValues[i];
        return 0f;
    }

    /// <summary>Fills the top-N list and returns log-sum-exp of the distribution.</summary>
    private float ComputeTop(ReadOnlySpan<float> work)
    {
        var max = SoftmaxKernels.Max(work);
        if (float.IsNegativeInfinity(max))
        {
            _topCount = 0;
            return 0f;
        }
        // The fast exponentials: within 2^-22 of MathF.Exp each, so the log of their sum is within 2.4e-7 of the
        // exact one's, under a float's rounding of most logprobs; the choice of token never depends on this sum.
        var sum = SoftmaxKernels.ExpWeights(work, max, 1f, float.MinValue, _weights, _blockSums);
        var lse = max + (float)Math.Log(sum);

        // Insertion into a list of at most 20, scanning ids upward so ties keep the lower id. Once the
        // list is full, eight logits at a time that none beat its last entry are skipped unread.
        _topCount = 0;
        var id = 0;
        while (id < work.Length && _topWanted > 0)
        {
            if (_topCount == _topWanted && Vector256.IsHardwareAccelerated && id <= work.Length - Vector256<float>.Count
                && !Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(work), (nuint)id), Vector256.Create(_top[_topCount - 1].Logprob)))
            {
                id += Vector256<float>.Count;
                continue;
            }
            var end = Math.Min(id + Vector256<float>.Count, work.Length);
            for (; id < end; id++) Offer(id, work[id]);
        }
        for (var i = 0; i < _topCount; i++) _top[i] = _top[i] with { Logprob = _top[i].Logprob - lse };
        return lse;
    }

    private void Offer(int id, float v)
    {
        if (!(v > float.NegativeInfinity)) return;
        if (_topCount == _topWanted && !(v > _top[_topCount - 1].Logprob)) return;
        var pos = _topCount < _topWanted ? _topCount++ : _topCount - 1;
        while (pos > 0 && v > _top[pos - 1].Logprob)
        {
            _top[pos] = _top[pos - 1];
            pos--;
        }
        _top[pos] = new TokenLogprob(id, v);
    }

    private void ApplyPenalties()
    {
        if (_window.Length > 0 && _windowCount > 0)
        {
            // Each distinct token in the window is penalized once, as llama.cpp does.
            var stamp = ++_stamp;
            var penalty = _p.RepetitionPenalty;
            for (var i = 0; i < _windowCount; i++)
            {
                var t = _window[i];
                if (_seenStamp[t] == stamp) continue;
                _seenStamp[t] = stamp;
                var v = _work[t];
                _work[t] = v <= 0 ? v * penalty : v / penalty;
            }
        }
        for (var i = 0; i < _genDistinctCount; i++)
        {
            var t = _genDistinct[i];
            _work[t] -= _p.PresencePenalty + _p.FrequencyPenalty * _genCounts[t];
        }
    }

    private void Accept(int token)
    {
        if (_window.Length > 0) PushWindow(token);
        if (_genCounts.Length > 0)
        {
            if (_genCounts[token]++ == 0) _genDistinct[_genDistinctCount++] = token;
        }
    }

    private void PushWindow(int token)
    {
        _window[_windowHead] = token;
        _windowHead = (_windowHead + 1) % _window.Length;
        if (_windowCount < _window.Length) _windowCount++;
    }

    // Strictly greater keeps the lowest id on ties; NaN never wins.
    private static int ArgMax(ReadOnlySpan<float> work) => SoftmaxKernels.ArgMax(work);

    private int SampleFiltered(ReadOnlySpan<float> x)
    {
        var invT = 1f / _p.Temperature;
        if (_p.TopK > 0) return SampleTopK(x, invT);
        // The maximum of the finite logits is also the maximum of every filter's survivors.
        var max = SoftmaxKernels.Max(x);
        if (!(max > float.NegativeInfinity)) return ArgMax(x);
        // p/p_max >= min_p  <=>  logit >= max + ln(min_p): no exponentials needed. MinValue keeps every finite logit.
        var threshold = _p.MinP > 0f ? max + MathF.Log(_p.MinP) : float.MinValue;
        if (_p.TopP >= 1f)
            return Pick(x, max, invT, threshold); // the survivors in id order: no list to build

        var order = new LogitOrder(x);
        int n;
        if (_nucleus is not null)
        {
            var r = _rng.NextDouble();
            var token = _nucleus.TryPick(x, max, threshold, invT, _p.TopP, r, _ids, _sortKeys);
            if (token >= 0) return token;
            // Within rounding of a boundary: the reference decides, with the same draw.
            n = Survivors(x, order, max, threshold);
            return DrawAmong(x, n, max, invT, r);
        }
        n = Survivors(x, order, max, threshold);
        return DrawAmong(x, n, max, invT, _rng.NextDouble());
    }

    /// <summary>Draws with <paramref name="r"/> among the survivors in <c>_ids[..n]</c>, in their order; returns the token.</summary>
    private int DrawAmong(ReadOnlySpan<float> x, int n, float max, float invT, double r)
    {
        for (var i = 0; i < n; i++) _values[i] = x[_ids[i]];
        return _ids[Pick(_values.AsSpan(0, n), max, invT, float.MinValue, r)];
    }

    /// <summary>top_k's survivors, then the draw among them, as <see cref="SampleFiltered"/> draws from <see cref="Survivors"/>.</summary>
    private int SampleTopK(ReadOnlySpan<float> x, float invT)
    {
        var n = TopKSurvivors(x, out var max);
        if (n == 0) return ArgMax(x); // every logit -inf or NaN
        return DrawAmong(x, n, max, invT, _rng.NextDouble());
    }

    /// <summary>The ids that pass top_k, min_p and top_p, into <c>_ids[..n]</c>; returns n.</summary>
    private int Survivors(ReadOnlySpan<float> x, LogitOrder order, float max, float threshold)
    {
        if (_p.TopK > 0) return TopKSurvivors(x, out _);
        var n = SoftmaxKernels.IndicesAtLeast(x, threshold, _ids, _values);
        if (_p.TopP < 1f && n > 1) n = TopP(x, order, n, max);
        return n;
    }

    /// <summary>
    /// The k best, then those of them that pass min_p and top_p, into <c>_ids[..n]</c>; returns n (0 when every logit
    /// is -inf or NaN). <paramref name="max"/> is the maximum of all logits, which is the best of the k, so it is
    /// found among them instead of in a pass over the vocabulary.
    /// </summary>
    private int TopKSurvivors(ReadOnlySpan<float> x, out float max)
    {
        var n = TopKSelect.SelectBest(x, _p.TopK, _ids, _values, _spareIds, _spareValues);
        max = float.NegativeInfinity;
        for (var i = 0; i < n; i++) max = MathF.Max(max, _values[i]);
        if (n == 0) return 0;
        if (_p.MinP > 0f) n = KeepAtLeast(n, max + MathF.Log(_p.MinP));
        if (_p.TopP < 1f && n > 1) n = TopP(x, new LogitOrder(x), n, max);
        return n;
    }

    /// <summary>The first <paramref name="n"/> ids and values with a value at or above <paramref name="threshold"/>, kept in order; returns how many.</summary>
    private int KeepAtLeast(int n, float threshold)
    {
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            if (_values[i] < threshold) continue;
            _values[kept] = _values[i];
            _ids[kept++] = _ids[i];
        }
        return kept;
    }

    /// <summary>
    /// Draws an index with probability proportional to exp((x - max) * invT) among the x at or above
    /// <paramref name="threshold"/> (never NaN or -inf).
    /// Vectorised exponentials decide unless the draw falls within their error of a boundary; then
    /// the scalar <see cref="MathF.Exp"/> pass decides, so a seed gives the same tokens either way.
    /// </summary>
    private int Pick(ReadOnlySpan<float> x, float max, float invT, float threshold) =>
        Pick(x, max, invT, threshold, _rng.NextDouble());

    private int Pick(ReadOnlySpan<float> x, float max, float invT, float threshold, double r)
    {
        var total = SoftmaxKernels.ExpWeights(x, max, invT, threshold, _weights, _blockSums);
        var picked = WeightedPick.Find(_weights.AsSpan(0, x.Length), _blockSums, r, total, DecisionBand.Fast(x.Length));
        if (picked >= 0) return picked;
        if (ExactExp.IsExact)
        {
            // The reference's own weights, vectorised: only the summation order differs from its, so the
            // band shrinks to rounding (see DecisionBand.RoundingPerTerm) and the scalar pass practically never runs.
            total = SoftmaxKernels.ExpWeights(x, max, invT, threshold, _weights, _blockSums, SoftmaxKernels.ExpKind.Exact);
            picked = WeightedPick.Find(_weights.AsSpan(0, x.Length), _blockSums, r, total, DecisionBand.Exact(x.Length));
            if (picked >= 0) return picked;
        }
        return ExactPick(x, max, invT, threshold, r);
    }

    /// <summary>The reference pick: scalar exponentials summed in order, then subtracted in order.</summary>
    private int ExactPick(ReadOnlySpan<float> x, float max, float invT, float threshold, double r)
    {
        double sum = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var w = x[i] >= threshold ? MathF.Exp((x[i] - max) * invT) : 0f;
            _weights[i] = w;
            sum += w;
        }
        var u = r * sum;
        var last = 0;
        for (var i = 0; i < x.Length; i++)
        {
            if (!(x[i] >= threshold)) continue;
            last = i;
            u -= _weights[i];
            if (u < 0) return i;
        }
        return last;
    }

    private int TopP(ReadOnlySpan<float> x, LogitOrder order, int n, float max)
    {
        double total = 0;
        for (var i = 0; i < n; i++) total += MathF.Exp(x[_ids[i]] - max);
        var target = _p.TopP * total;

        var m = n;
        if (n > TopPPrefilter)
        {
            TopKSelect.Select(_ids.AsSpan(0, n), _values.AsSpan(0, n), TopPPrefilter, keepRest: true);
            double head = 0;
            for (var i = 0; i < TopPPrefilter; i++) head += MathF.Exp(x[_ids[i]] - max);
            if (head >= target) m = TopPPrefilter;
        }
        order.Sort(_ids.AsSpan(0, m), _sortKeys);

        double cum = 0;
        for (var k = 0; k < m; k++)
        {
            cum += MathF.Exp(x[_ids[k]] - max);
            if (cum >= target) return k + 1;
        }
        return m;
    }
}
