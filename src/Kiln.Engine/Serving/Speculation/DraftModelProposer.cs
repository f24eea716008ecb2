using Kiln.Engine.Models;
using Kiln.Engine.Sampling;

namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// Proposes with a smaller model over the same vocabulary: per step one batched draft pass feeds each
/// sequence's tokens the draft has not seen (its whole prompt at first, in chunks of the catch-up
/// budget) and draws the first draft, then one pass per further draft. Drafts are drawn from the draft
/// model's distribution under the request's temperature, filters and bias (without penalties, which
/// would need their own history): the target's verification needs only that distribution, kept per draft.
/// The draft runs without the request's adapters.
/// </summary>
internal sealed class DraftModelProposer : IDraftProposer
{
    // Draws of the draft sampler differ from the target's for the same request seed.
    private const ulong SeedSalt = 0x9E3779B97F4A7C15;

    private readonly ILanguageModel _draft;
    private readonly int _vocab;
    private readonly int _draftTokens;
    private readonly int _catchUpBudget;
    private readonly Batch _batch;
    private readonly int[] _fed;
    private readonly int[] _proposed;
    private readonly float[]?[] _q;
    private readonly Sampler?[] _samplers;
    private readonly Sequence?[] _owners;
    private readonly List<Sequence> _members;

    public DraftModelProposer(ILanguageModel draft, int vocab, int slots, int draftTokens, int catchUpBudget)
    {
        if (draft.Info.VocabSize != vocab)
            throw new ArgumentException($"the draft model's vocabulary has {draft.Info.VocabSize} tokens, the target's {vocab}");
        if (draft.Info.MaxSlots < slots)
            throw new ArgumentException($"the draft model has {draft.Info.MaxSlots} slots, {slots} needed");
        _draft = draft;
        _vocab = vocab;
        _draftTokens = draftTokens;
        _catchUpBudget = Math.Max(1, catchUpBudget);
        _batch = new Batch(_catchUpBudget + slots);
        _fed = new int[slots];
        _proposed = new int[slots];
        _q = new float[]?[slots];
        _samplers = new Sampler?[slots];
        _owners = new Sequence?[slots];
        _members = new List<Sequence>(slots);
    }

    public void Propose(IReadOnlyList<Sequence> sequences, DraftSet drafts)
    {
        _batch.Clear();
        _members.Clear();
        var budget = _catchUpBudget;
        foreach (var seq in sequences)
        {
            var slot = seq.Slot;
            drafts.SetCount(slot, 0);
            _proposed[slot] = 0;
            if (_owners[slot] != seq) Adopt(seq);
            var history = seq.History;
            var need = history.Length - _fed[slot];
            var take = Math.Min(need, budget);
            if (take <= 0) continue;
            for (var i = 0; i < take; i++)
            {
                var position = _fed[slot] + i;
                _batch.Add(history[position], slot, position, wantLogits: take == need && i == take - 1);
            }
            _fed[slot] += take;
            budget -= take;
            // A sequence still catching up proposes nothing this step: the target decodes it as usual.
            if (take == need) _members.Add(seq);
        }
        if (_batch.Count == 0) return;
        var logits = _draft.Forward(_batch);
        for (var m = 0; m < _members.Count; m++) Draw(_members[m], drafts, 0, logits.Slice(m * _vocab, _vocab));

        for (var j = 1; j < _draftTokens; j++)
        {
            _batch.Clear();
            var rows = 0;
            foreach (var seq in _members)
            {
                if (drafts.Limit(seq.Slot) <= j) continue;
                var position = seq.History.Length + j - 1;
                _batch.Add(drafts.Room(seq.Slot)[j - 1], seq.Slot, position, wantLogits: true);
                rows++;
            }
            if (rows == 0) break;
            logits = _draft.Forward(_batch);
            var row = 0;
            foreach (var seq in _members)
            {
                if (drafts.Limit(seq.Slot) <= j) continue;
                Draw(seq, drafts, j, logits.Slice(row++ * _vocab, _vocab));
            }
        }
    }

    private void Adopt(Sequence seq)
    {
        var slot = seq.Slot;
        _owners[slot] = seq;
        _fed[slot] = 0;
        _draft.Truncate(slot, 0);
        var p = seq.Request.Sampling;
        _samplers[slot] = new Sampler(_vocab, p with
        {
            RepetitionPenalty = 1f,
            PresencePenalty = 0f,
            FrequencyPenalty = 0f,
            Logprobs = false,
            TopLogprobs = 0,
            Seed = p.Seed is { } seed ? seed ^ SeedSalt : null,
        });
        _q[slot] ??= new float[_draftTokens * _vocab];
    }

    private void Draw(Sequence seq, DraftSet drafts, int index, ReadOnlySpan<float> logits)
    {
        var slot = seq.Slot;
        var sampler = _samplers[slot]!;
        var q = _q[slot].AsSpan(index * _vocab, _vocab);
        sampler.Distribution(logits, q);
        drafts.Room(slot)[index] = SpeculativeSampling.Draw(q, sampler.NextUniform());
        drafts.SetCount(slot, index + 1);
        _proposed[slot] = index + 1;
    }

    public ReadOnlySpan<float> Distribution(int slot, int index) => _q[slot].AsSpan(index * _vocab, _vocab);

    public void Accepted(int slot, int accepted)
    {
        // The draft fed every draft but the last; those the target kept are history now, the rest is
        // forgotten (later rows overwrite those positions before anything attends to them).
        var kept = Math.Min(accepted, _proposed[slot] - 1);
        if (kept > 0) _fed[slot] += kept;
        _draft.Truncate(slot, _fed[slot]);
    }

    public void Release(int slot)
    {
        _owners[slot] = null;
        _samplers[slot] = null;
    }

    public void Dispose() { }
}
