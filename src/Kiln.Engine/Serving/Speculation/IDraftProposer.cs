namespace Kiln.Engine.Serving.Speculation;

/// <summary>Where draft tokens come from: the sequences' own n-grams, or a draft model.</summary>
internal interface IDraftProposer : IDisposable
{
    /// <summary>
    /// Proposes drafts for <paramref name="sequences"/> (decoding, with their history), each up to its
    /// slot's limit in <paramref name="drafts"/>, continuing the sequence's <see cref="Sequence.History"/>.
    /// </summary>
    void Propose(IReadOnlyList<Sequence> sequences, DraftSet drafts);

    /// <summary>The distribution draft <paramref name="index"/> of <paramref name="slot"/> was drawn from; empty for a point mass.</summary>
    ReadOnlySpan<float> Distribution(int slot, int index);

    /// <summary>The target kept the first <paramref name="accepted"/> drafts of the slot (and the sequence goes on).</summary>
    void Accepted(int slot, int accepted);

    /// <summary>The slot's sequence left: what the proposer holds for it is stale.</summary>
    void Release(int slot);
}
