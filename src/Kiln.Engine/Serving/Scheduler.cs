using System.Collections.Concurrent;
using System.Diagnostics;
using Kiln.Engine.Models;
using Kiln.Engine.Sampling;
using Kiln.Engine.Serving.Speculation;
using Kiln.Engine.Threading;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Serving;

/// <summary>
/// Continuous batching over one <see cref="ILanguageModel"/> on a dedicated thread. Between steps
/// sequences join (into free slots, from a bounded wait queue) and leave (finished or cancelled).
/// Each step is one forward pass mixing one decode row per generating sequence with prompt chunks
/// of sequences still prefilling, shortest remaining prompt first, at most
/// <see cref="SchedulerOptions.PrefillChunk"/> prompt tokens per step. With
/// <see cref="SchedulerOptions.Speculation"/>, a decoding sequence's row is followed by its draft
/// tokens' rows, which the same pass verifies (<see cref="Speculator"/>).
/// </summary>
public sealed class Scheduler : IDisposable
{
    private readonly ILanguageModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly TokenTextCache _texts;
    private readonly int _vocab;
    private readonly int _maxQueue;
    private readonly int _prefillChunk;
    private readonly Thread _thread;
    private readonly object _gate = new();

    // Guarded by _gate.
    private readonly List<Sequence> _waiting = [];
    private bool _stopping;

    private readonly ConcurrentQueue<Sequence> _cancelled = new();

    // Scheduler thread only; sized once so steps do not allocate.
    private readonly List<Sequence> _active;
    private readonly Stack<int> _freeSlots;
    private readonly Batch _batch;
    private readonly Part[] _parts;
    private readonly Sequence[] _prefillOrder;
    private readonly List<Sequence> _admitted;
    private readonly SamplingJob _sampling;
    private readonly WorkerPool? _pool;
    private readonly PrefixCache? _prefix;
    private readonly Speculator? _speculator;
    private readonly Func<Sequence, int, bool> _takeSpeculated;
    private int _partCount;

    private readonly record struct Part(Sequence Seq, int Start, int Count, int LogitRows, bool Decode);

    public Scheduler(ILanguageModel model, ITokenizer tokenizer, SchedulerOptions? options = null)
    {
        options ??= new SchedulerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxQueue, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PrefillChunk, 1);
        _model = model;
        _tokenizer = tokenizer;
        _vocab = model.Info.VocabSize;
        _texts = new TokenTextCache(tokenizer);
        MaxBatchSize = Math.Min(options.MaxBatchSize, model.Info.MaxSlots);
        ContextSize = Math.Min(options.ContextSize ?? model.Info.ContextLength, model.Info.ContextLength);
        _maxQueue = options.MaxQueue;
        _prefillChunk = options.PrefillChunk;
        Metrics = new SchedulerMetrics(MaxBatchSize);

        _active = new List<Sequence>(MaxBatchSize);
        _freeSlots = new Stack<int>(Enumerable.Range(0, MaxBatchSize).Reverse());
        _speculator = Speculator.Create(options.Speculation, model, MaxBatchSize, ContextSize, _prefillChunk);
        _takeSpeculated = TakeSpeculated;
        _batch = new Batch(SpeculationOptions.RowsPerStep(MaxBatchSize, _prefillChunk, options.Speculation));
        _parts = new Part[MaxBatchSize];
        _prefillOrder = new Sequence[MaxBatchSize];
        _admitted = new List<Sequence>(MaxBatchSize);
        _sampling = new SamplingJob(MaxBatchSize, _vocab);
        // The model's own workers sample the step's sequences in parallel: they are idle between
        // forward passes, and a second pool would fight them for the same cores.
        _pool = model.Workers;
        if (options.PrefixCacheBytes > 0 && model.KvBytesPerPosition > 0)
            _prefix = new PrefixCache(options.PrefixCacheBytes, options.PrefixBlockTokens, model.KvBytesPerPosition, model.KvFormat);
        PrefixCache = _prefix?.Metrics ?? new PrefixCacheMetrics(0, options.PrefixBlockTokens);

        _thread = new Thread(Run) { IsBackground = true, Name = "kiln-scheduler" };
        _thread.Start();
    }

    public int MaxBatchSize { get; }
    public int ContextSize { get; }
    public SchedulerMetrics Metrics { get; }

    /// <summary>The prefix cache's counters (capacity 0 when it is off).</summary>
    public PrefixCacheMetrics PrefixCache { get; }
    /// <summary>Speculative decoding's counters; null when the scheduler does not speculate.</summary>
    public SpeculationMetrics? Speculation => _speculator?.Metrics;

    /// <summary>Checks a request against the context and vocabulary; throws <see cref="RequestValidationException"/>.</summary>
    public void Validate(GenerationRequest request)
    {
        var prompt = request.PromptTokens;
        if (prompt.Count == 0)
            throw new RequestValidationException("The prompt must contain at least one token.", "prompt");
        foreach (var t in prompt)
            if (t < 0 || t >= _vocab)
                throw new RequestValidationException($"Prompt token {t} is outside the vocabulary (0..{_vocab - 1}).", "prompt");
        if (request.MaxTokens is < 0)
            throw new RequestValidationException("max_tokens must be >= 0.", "max_tokens");
        if (prompt.Count > ContextSize)
            throw new RequestValidationException(
                $"This model's maximum context length is {ContextSize} tokens, but the prompt has {prompt.Count} tokens.", "prompt");
        if (request.MaxTokens is { } max && prompt.Count + max > ContextSize)
            throw new RequestValidationException(
                $"This model's maximum context length is {ContextSize} tokens. However, you requested {prompt.Count + max} tokens " +
                $"({prompt.Count} in the prompt, {max} for the completion). Please reduce the prompt or max_tokens.", "max_tokens");
        try
        {
            request.Sampling.Validate(_vocab);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new RequestValidationException(e.Message.Split(" (Parameter")[0], e.ParamName);
        }
    }

    public Generation Submit(GenerationRequest request, CancellationToken cancellationToken = default) =>
        SubmitMany([request], cancellationToken)[0];

    /// <summary>
    /// Validates and queues sequences, all or none: throws <see cref="RequestValidationException"/>
    /// for a bad request and <see cref="QueueFullException"/> when they do not all fit the queue.
    /// Cancelling the token ends them and frees their slots.
    /// </summary>
    public IReadOnlyList<Generation> SubmitMany(IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken = default)
    {
        foreach (var r in requests) Validate(r);
        var sequences = new Sequence[requests.Count];
        for (var i = 0; i < sequences.Length; i++)
        {
            var r = requests[i];
            var room = ContextSize - r.PromptTokens.Count;
            var maxNew = Math.Min(r.MaxTokens ?? room, room);
            sequences[i] = new Sequence(r, new Sampler(_vocab, r.Sampling), _tokenizer, _texts, maxNew, keepHistory: _speculator is not null);
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_waiting.Count + sequences.Length > _maxQueue + FreeSlotsEstimate())
                throw new QueueFullException(_maxQueue);
            _waiting.AddRange(sequences);
            Metrics.SetQueued(_waiting.Count);
            Monitor.Pulse(_gate);
        }
        if (cancellationToken.CanBeCanceled)
            foreach (var s in sequences)
                s.Registration = cancellationToken.Register(static o =>
                {
                    var (self, seq) = ((Scheduler, Sequence))o!;
                    self.Cancel(seq);
                }, (this, s));
        return [.. sequences.Select(s => s.Handle)];
    }

    // Sequences about to take a free slot are not really waiting; read under _gate.
    private int FreeSlotsEstimate() => Math.Max(0, MaxBatchSize - Metrics.ActiveSequences);

    private void Cancel(Sequence seq)
    {
        _cancelled.Enqueue(seq);
        lock (_gate) Monitor.Pulse(_gate);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join();
        _speculator?.Dispose();
        var error = new ObjectDisposedException(nameof(Scheduler));
        foreach (var s in _waiting) s.Fail(error);
        foreach (var s in _active) s.Fail(error);
        _waiting.Clear();
        _active.Clear();
        _prefix?.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            lock (_gate)
            {
                while (!_stopping && _active.Count == 0 && _waiting.Count == 0 && _cancelled.IsEmpty) Monitor.Wait(_gate);
                if (_stopping) return;
            }
            ProcessCancellations();
            Admit();
            if (_active.Count > 0) Step();
        }
    }

    private void ProcessCancellations()
    {
        while (_cancelled.TryDequeue(out var seq))
        {
            if (seq.State == SequenceState.Done) continue;
            if (seq.State == SequenceState.Waiting)
            {
                lock (_gate)
                {
                    _waiting.Remove(seq);
                    Metrics.SetQueued(_waiting.Count);
                }
                seq.State = SequenceState.Done;
            }
            seq.Fail(new OperationCanceledException("the request was cancelled"));
            Metrics.AddFinished(FinishReason.Cancelled);
            Release(seq);
        }
        RemoveDone();
    }

    private void Admit()
    {
        lock (_gate)
        {
            while (_waiting.Count > 0 && _admitted.Count < _freeSlots.Count)
            {
                _admitted.Add(_waiting[0]);
                _waiting.RemoveAt(0);
            }
            Metrics.SetQueued(_waiting.Count);
        }
        // Outside the lock: finishing disposes a cancellation registration, whose callback takes the lock.
        foreach (var seq in _admitted)
        {
            seq.Admit(_freeSlots.Pop());
            _model.Truncate(seq.Slot, 0);
            // A cached prefix skips its prefill; the last prompt token always runs, for its logits.
            if (_prefix is not null && seq.MaxNewTokens > 0 && !seq.WantsPromptLogits)
                seq.Fed = _prefix.Restore(_model, seq.Slot, seq.Prompt, seq.Prompt.Length - 1, seq.Request.Adapters);
            _active.Add(seq);
            Metrics.AddPromptTokens(seq.Prompt.Length);
            // Nothing to generate or score: done without touching the model.
            if (seq.MaxNewTokens == 0 && !seq.WantsPromptLogits) Finish(seq, FinishReason.Length);
        }
        _admitted.Clear();
        RemoveDone();
    }

    private void Step()
    {
        _speculator?.Propose(_active);
        BuildBatch();
        if (_batch.Count == 0) return;
        ReadOnlySpan<float> logits;
        try
        {
            logits = _model.Forward(_batch);
            if (logits.Length < _batch.LogitRows * _vocab)
                throw new InvalidOperationException($"the model returned {logits.Length} logits for {_batch.LogitRows} rows");
        }
        catch (Exception e)
        {
            // A failed step poisons the caches of everything in it; end those sequences, keep serving.
            for (var i = 0; i < _partCount; i++)
            {
                var seq = _parts[i].Seq;
                if (seq.State == SequenceState.Done) continue;
                seq.Fail(e);
                Metrics.AddFinished(FinishReason.Error);
                Release(seq);
            }
            RemoveDone();
            return;
        }

        var row = 0;
        for (var i = 0; i < _partCount; i++)
        {
            var part = _parts[i];
            if (part.Decode && part.Count > 1) _speculator!.Verify(part.Seq, logits.Slice(row * _vocab, part.LogitRows * _vocab), _takeSpeculated);
            else if (part.Decode) OnDecoded(part.Seq, row);
            else OnPrefilled(part, logits.Slice(row * _vocab, part.LogitRows * _vocab), row);
            row += part.LogitRows;
        }
        _partCount = 0;
        _sampling.Run(logits, _pool);
        for (var i = 0; i < _sampling.Count; i++) OnSampled(_sampling.Sequence(i), _sampling.Token(i));
        _sampling.Clear();
        RemoveDone();
    }

    private void BuildBatch()
    {
        _batch.Clear();
        _partCount = 0;
        var prefilling = 0;
        foreach (var seq in _active)
        {
            if (seq.State == SequenceState.Decode)
            {
                _batch.Add(seq.LastToken, seq.Slot, seq.Fed, wantLogits: true, seq.Request.Adapters);
                var drafts = _speculator is null ? default : _speculator.Drafts(seq);
                for (var i = 0; i < drafts.Length; i++)
                    _batch.Add(drafts[i], seq.Slot, seq.Fed + 1 + i, wantLogits: true, seq.Request.Adapters);
                _parts[_partCount++] = new Part(seq, seq.Fed, 1 + drafts.Length, 1 + drafts.Length, Decode: true);
            }
            else if (seq.State == SequenceState.Prefill)
            {
                _prefillOrder[prefilling++] = seq;
            }
        }

        // Shortest remaining prompt first: short requests get going while a long prompt is chunked.
        for (var i = 1; i < prefilling; i++)
        {
            var s = _prefillOrder[i];
            var j = i - 1;
            while (j >= 0 && Remaining(_prefillOrder[j]) > Remaining(s)) { _prefillOrder[j + 1] = _prefillOrder[j]; j--; }
            _prefillOrder[j + 1] = s;
        }

        var budget = _prefillChunk;
        for (var i = 0; i < prefilling && budget > 0; i++)
        {
            var seq = _prefillOrder[i];
            var take = Math.Min(Remaining(seq), budget);
            budget -= take;
            var start = seq.Fed;
            var last = seq.Prompt.Length - 1;
            var logitRows = 0;
            for (var p = start; p < start + take; p++)
            {
                var want = seq.WantsPromptLogits || (p == last && seq.MaxNewTokens > 0);
                _batch.Add(seq.Prompt[p], seq.Slot, p, want, seq.Request.Adapters);
                if (want) logitRows++;
            }
            _parts[_partCount++] = new Part(seq, start, take, logitRows, Decode: false);
        }
        Array.Clear(_prefillOrder, 0, prefilling);
    }

    private static int Remaining(Sequence seq) => seq.Prompt.Length - seq.Fed;

    /// <summary>Scores the chunk's prompt tokens if asked; a finished prompt queues its first sample (from its last row, <paramref name="firstRow"/> + rows - 1).</summary>
    private void OnPrefilled(Part part, ReadOnlySpan<float> logits, int firstRow)
    {
        var seq = part.Seq;
        var prompt = seq.Prompt;
        var end = part.Start + part.Count;
        if (seq.WantsPromptLogits)
        {
            for (var p = part.Start; p < end && p + 1 < prompt.Length; p++)
                seq.ScorePromptToken(logits.Slice((p - part.Start) * _vocab, _vocab), prompt[p + 1]);
        }
        seq.Fed = end;
        if (end < prompt.Length) return;

        seq.PromptDone();
        // Saved now, not only at the end, so requests arriving meanwhile share it.
        _prefix?.Save(_model, seq.Slot, prompt, seq.Request.Adapters);
        if (seq.MaxNewTokens == 0)
        {
            Finish(seq, FinishReason.Length);
            return;
        }
        _sampling.Add(seq, firstRow + part.LogitRows - 1);
    }

    private void OnDecoded(Sequence seq, int row)
    {
        seq.Fed++;
        _sampling.Add(seq, row);
    }

    /// <summary>Takes a sequence's sampled token, on the scheduler thread once the step's sampling is done.</summary>
    private void OnSampled(Sequence seq, int token)
    {
        Metrics.AddGeneratedToken();
        if (seq.Generated == 0)
            Metrics.ObserveTimeToFirstToken(Stopwatch.GetElapsedTime(seq.Submitted).TotalSeconds);
        if (seq.Accept(token) is { } reason) Finish(seq, reason);
    }

    /// <summary>Takes a token speculation kept or drew; true when it ended the sequence.</summary>
    private bool TakeSpeculated(Sequence seq, int token)
    {
        OnSampled(seq, token);
        return seq.State == SequenceState.Done;
    }

    private void Finish(Sequence seq, FinishReason reason)
    {
        // The answer too: the next turn of a conversation resends it.
        if (_prefix is not null && seq.Slot >= 0) _prefix.Save(_model, seq.Slot, seq.FedTokens(), seq.Request.Adapters);
        seq.Finish(reason);
        Metrics.AddFinished(reason);
        Release(seq);
    }

    /// <summary>Frees the slot at once; the sequence leaves the active list at the next <see cref="RemoveDone"/>.</summary>
    private void Release(Sequence seq)
    {
        seq.Registration.Dispose();
        if (seq.Slot < 0) return;
        _speculator?.Release(seq.Slot);
        _model.Truncate(seq.Slot, 0);
        _freeSlots.Push(seq.Slot);
        seq.Slot = -1;
    }

    private void RemoveDone()
    {
        _active.RemoveAll(static s => s.State == SequenceState.Done);
        Metrics.SetActive(_active.Count);
    }
}
