namespace Kiln.Store;

/// <summary>
/// A named lease in the store (the controllers' leader lease): who holds it, its epoch, and until
/// when. It is held by <see cref="Holder"/> while the store's clock is before <see cref="ExpireTime"/>.
/// </summary>
/// <param name="Name">The lease's name.</param>
/// <param name="Holder">The last holder's ID (still the holder only until <see cref="ExpireTime"/>).</param>
/// <param name="Epoch">
/// The fencing token: it grows by one whenever the lease is acquired by a holder that did not hold it
/// unexpired, and stays the same across renewals. A holder that sees a different epoch than the one
/// it acquired has lost the lease in between.
/// </param>
/// <param name="AcquireTime">When the current epoch began.</param>
/// <param name="RenewTime">The last successful acquisition or renewal.</param>
/// <param name="ExpireTime">When the lease lapses unless renewed (the renewal time plus the TTL asked for).</param>
public sealed record LeaseRecord(
    string Name, string Holder, long Epoch, DateTimeOffset AcquireTime, DateTimeOffset RenewTime, DateTimeOffset ExpireTime)
{
    /// <summary>Whether <paramref name="holder"/> holds the lease at <paramref name="now"/>.</summary>
    public bool IsHeldBy(string holder, DateTimeOffset now) => Holder == holder && now < ExpireTime;
}

/// <summary>A deployment at zero replicas that a held request wants woken, and when it was last asked for.</summary>
/// <param name="Account">The owning account.</param>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="RequestTime">The latest ask (the store's clock).</param>
public sealed record WakeRequest(string Account, string DeploymentId, DateTimeOffset RequestTime);
