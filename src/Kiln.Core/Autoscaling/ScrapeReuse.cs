namespace Kiln.Core.Autoscaling;

/// <summary>
/// Whether an autoscaler pass scrapes a deployment's replicas or reuses their last scrape. Only a
/// quiet deployment's scrape is reused (every READY replica showed nothing running or waiting, and
/// the gateway held nothing), and only while nothing new has happened since: no arrival at this
/// instance's gateway, nothing in flight or held there, the store's last-request time unchanged
/// (compared by value: other instances' clocks need not agree with this one), and the same READY
/// replicas. Even then the scrape is taken again now and then, so requests that reached the
/// replicas without passing any gateway are still seen.
/// </summary>
public static class ScrapeReuse
{
    /// <summary>
    /// A quiet deployment is scraped again on one pass in this many (its turn), so at the default
    /// 5 s interval its replicas' figures are at most 30 s old. Turns are spread over deployments,
    /// so each pass refreshes a share of the quiet ones instead of every one on the same pass.
    /// </summary>
    public const int RefreshEveryPasses = 6;

    /// <summary>
    /// The oldest a reused scrape may be, whatever the passes: with a long interval between passes,
    /// or passes that run late, quiet deployments are scraped every pass rather than trusted longer.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    /// <summary>
    /// What to remember of a real scrape taken on <paramref name="pass"/> at <paramref name="at"/>:
    /// a <see cref="QuietScrape"/> when every replica READY before it (<paramref name="before"/>)
    /// answered (<paramref name="answered"/>), all of them idle (<paramref name="allIdle"/>), and the
    /// gateway had nothing in flight or held; otherwise null, and the next pass scrapes again.
    /// </summary>
    public static QuietScrape? Remember(DeploymentActivity before, IReadOnlyCollection<string> answered, bool allIdle, long pass, DateTimeOffset at)
    {
        if (!allIdle || before.InFlight > 0 || before.Held > 0)
        {
            return null;
        }
        var replicas = answered.ToHashSet(StringComparer.Ordinal);
        return replicas.Count == answered.Count && SameSet(replicas, before.ReadyReplicas) ? new QuietScrape(pass, at, before, replicas) : null;
    }

    /// <summary>
    /// True when pass <paramref name="pass"/>, beginning at <paramref name="at"/>, may reuse the
    /// scrape <paramref name="last"/> instead of scraping: the deployment is as quiet as it was then,
    /// it is not its <paramref name="turn"/> (0 to <see cref="RefreshEveryPasses"/> - 1) to be
    /// refreshed, and the scrape is younger than <see cref="MaxAge"/>.
    /// </summary>
    public static bool MayReuse(QuietScrape? last, DeploymentActivity now, long pass, int turn, DateTimeOffset at)
    {
        if (last is null)
        {
            return false;
        }
        var seen = last.Seen;
        var unchanged = now.Arrivals == seen.Arrivals && now.InFlight == 0 && now.Held == 0
            && now.LastRequestTime == seen.LastRequestTime && now.GatewayLastRequestTime == seen.GatewayLastRequestTime
            && SameSet(last.Replicas, now.ReadyReplicas);
        var fresh = pass > last.Pass && pass - last.Pass < RefreshEveryPasses && pass % RefreshEveryPasses != turn
            && at >= last.At && at - last.At < MaxAge;
        return unchanged && fresh;
    }

    private static bool SameSet(IReadOnlySet<string> a, IReadOnlyCollection<string> b) => a.Count == b.Count && b.All(a.Contains);
}
