using Kiln.Engine.Models;

namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// The scheduler's speculation: before a step it asks the proposer for drafts of every decoding
/// sequence (no more than its remaining tokens and context allow); the step then carries, per such
/// sequence, its last token and its drafts as consecutive rows, each wanting logits; after the step
/// <see cref="Verify"/> walks those rows in order, keeping drafts by speculative sampling against the
/// sequence's own sampler until one is replaced or all are kept (and one more token is drawn).
/// Positions past the kept prefix are truncated: later rows overwrite them before anything attends to them.
/// </summary>
internal sealed class Speculator : IDisposable
{
    private readonly IDraftProposer _proposer;
    private readonly ILanguageModel _model;
    private readonly DraftSet _drafts;
    private readonly int _vocab;
    private readonly int _contextSize;
    private readonly float[] _p;
    private readonly List<Sequence> _proposing;

    private Speculator(IDraftProposer proposer, ILanguageModel model, int slots, int draftTokens, int contextSize)
    {
        _proposer = proposer;
        _model = model;
        _vocab = model.Info.VocabSize;
        _contextSize = contextSize;
        _drafts = new DraftSet(slots, draftTokens);
        _p = new float[_vocab];
        _proposing = new List<Sequence>(slots);
    }

    /// <summary>A speculator for <paramref name="options"/>, or null when they ask for none.</summary>
    public static Speculator? Create(SpeculationOptions? options, ILanguageModel model, int slots, int contextSize, int prefillChunk)
    {
        if (options is null) return null;
        options.Validate();
        if (options.DraftModel is { } draft && draft.Info.ContextLength < contextSize)
            throw new ArgumentException($"the draft model's context of {draft.Info.ContextLength} tokens is shorter than the target's {contextSize}");
        IDraftProposer proposer = options.DraftModel is { } model2
            ? new DraftModelProposer(model2, model.Info.VocabSize, slots, options.DraftTokens, prefillChunk)
            : new NgramProposer(options.NgramLength!.Value);
        return new Speculator(proposer, model, slots, options.DraftTokens, contextSize);
    }

    public int MaxDraftTokens => _drafts.MaxTokens;
    public SpeculationMetrics Metrics { get; } = new();

    /// <summary>Fills the drafts of the decoding sequences among <paramref name="active"/>.</summary>
    public void Propose(List<Sequence> active)
    {
        _proposing.Clear();
        foreach (var seq in active)
        {
            if (seq.State != SequenceState.Decode) continue;
            // The last token kept must still be within max_tokens and its position within the context.
            var limit = Math.Min(seq.MaxNewTokens - seq.Generated - 1, _contextSize - 1 - seq.Fed);
            _drafts.SetLimit(seq.Slot, limit);
            _drafts.SetCount(seq.Slot, 0);
            if (limit > 0) _proposing.Add(seq);
        }
        if (_proposing.Count == 0) return;
        try
        {
            _proposer.Propose(_proposing, _drafts);
        }
        catch (Exception)
        {
            // A failing draft model costs this step's speculation, not the requests: they decode as usual.
            Metrics.AddProposalFailure();
            foreach (var seq in _proposing) Release(seq.Slot);
        }
    }

    /// <summary>The drafts the step carries for <paramref name="seq"/> after its last token.</summary>
    public ReadOnlySpan<int> Drafts(Sequence seq) => _drafts.Tokens(seq.Slot);

    /// <summary>
    /// Takes the step's logits rows of <paramref name="seq"/> (its last token's, then one per draft) and
    /// hands each kept or drawn token, in order, to <paramref name="take"/>, which says whether the
    /// sequence ended (a stop, max_tokens or an end token): then the rest is dropped.
    /// </summary>
    public void Verify(Sequence seq, ReadOnlySpan<float> logits, Func<Sequence, int, bool> take)
    {
        var slot = seq.Slot;
        var drafts = _drafts.Tokens(slot);
        var n = drafts.Length;
        var sampler = seq.Sampler;
        var fedBefore = seq.Fed;
        seq.Fed++;
        var accepted = 0;
        var ended = false;
        for (var i = 0; i <= n; i++)
        {
            var row = logits.Slice(i * _vocab, _vocab);
            sampler.Distribution(row, _p);
            int token;
            if (i < n)
            {
                var q = _proposer.Distribution(slot, i);
                token = SpeculativeSampling.Accepts(_p, q, drafts[i], sampler.NextUniform())
                    ? drafts[i]
                    : SpeculativeSampling.Residual(_p, q, drafts[i], sampler.NextUniform());
            }
            else
            {
                token = SpeculativeSampling.Draw(_p, sampler.NextUniform());
            }
            sampler.Commit(row, token);
            var kept = i < n && token == drafts[i];
            if (kept) accepted++;
            if (take(seq, token))
            {
                ended = true;
                break;
            }
            if (!kept) break;
            // The kept draft's row wrote its keys and values: it is in the cache now.
            seq.Fed++;
        }
        Metrics.Add(n, accepted);
        if (ended) return;
        if (seq.Fed < fedBefore + 1 + n) _model.Truncate(slot, seq.Fed);
        _proposer.Accepted(slot, accepted);
    }

    /// <summary>The slot's sequence left.</summary>
    public void Release(int slot)
    {
        _drafts.Clear(slot);
        _proposer.Release(slot);
    }

    public void Dispose() => _proposer.Dispose();
}
