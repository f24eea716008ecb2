namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// Speculation counters, named as vLLM's <c>spec_decode</c> metrics are: drafts (sequence-steps that
/// proposed), draft tokens proposed and draft tokens the target accepted. Safe to read from any thread.
/// </summary>
public sealed class SpeculationMetrics
{
    private long _drafts;
    private long _draftTokens;
    private long _acceptedTokens;
    private long _proposalFailures;

    public long Drafts => Interlocked.Read(ref _drafts);
    public long DraftTokens => Interlocked.Read(ref _draftTokens);
    public long AcceptedTokens => Interlocked.Read(ref _acceptedTokens);

    /// <summary>Steps whose proposals failed (a draft model's error): those sequences decoded without drafts.</summary>
    public long ProposalFailures => Interlocked.Read(ref _proposalFailures);

    /// <summary>Accepted over proposed draft tokens; 0 before any proposal.</summary>
    public double AcceptanceRate => DraftTokens is var proposed and > 0 ? (double)AcceptedTokens / proposed : 0;

    internal void AddProposalFailure() => Interlocked.Increment(ref _proposalFailures);

    internal void Add(int draftTokens, int accepted)
    {
        Interlocked.Increment(ref _drafts);
        Interlocked.Add(ref _draftTokens, draftTokens);
        Interlocked.Add(ref _acceptedTokens, accepted);
    }
}
