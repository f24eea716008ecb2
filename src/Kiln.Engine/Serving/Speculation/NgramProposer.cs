namespace Kiln.Engine.Serving.Speculation;

/// <summary>Proposes by <see cref="NgramLookup"/> in each sequence's own tokens: no model, point-mass proposals.</summary>
internal sealed class NgramProposer(int n) : IDraftProposer
{
    public void Propose(IReadOnlyList<Sequence> sequences, DraftSet drafts)
    {
        foreach (var seq in sequences)
            drafts.SetCount(seq.Slot, NgramLookup.Propose(seq.History, n, drafts.Room(seq.Slot)));
    }

    public ReadOnlySpan<float> Distribution(int slot, int index) => [];

    public void Accepted(int slot, int accepted) { }

    public void Release(int slot) { }

    public void Dispose() { }
}
