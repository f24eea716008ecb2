namespace Kiln.Server.Signals;

/// <summary>
/// This server instance's identity and whether it leads now (runs the controllers under the
/// store's leader lease). The leader elector writes it; the gateway, the API and the controllers
/// read it. A single instance leads from its start, as soon as it has taken the free lease.
/// </summary>
public sealed class Leadership
{
    /// <summary>The store lease the controllers run under.</summary>
    public const string LeaseName = "controllers";

    private Term? _term;

    /// <summary>Creates the state of an instance called <paramref name="instanceId"/> (a fresh <see cref="InstanceIds.New"/> by default).</summary>
    public Leadership(string? instanceId = null) => InstanceId = instanceId ?? InstanceIds.New();

    /// <summary>A leader's term: its lease epoch and a token cancelled when the term ends.</summary>
    public sealed record Term(long Epoch, CancellationToken Ending);

    /// <summary>Stable for the process's life and unique across processes: host, process ID and a random part.</summary>
    public string InstanceId { get; }

    /// <summary>The current term while this instance leads, else null.</summary>
    public Term? Current => Volatile.Read(ref _term) is { Ending.IsCancellationRequested: false } t ? t : null;

    /// <summary>Whether this instance leads now.</summary>
    public bool IsLeader => Current is not null;

    /// <summary>Records the start (a term) or the end (null) of this instance's leadership.</summary>
    public void Set(Term? term) => Volatile.Write(ref _term, term);

}
