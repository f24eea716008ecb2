using Kiln.Core.Autoscaling;
using Kiln.Core.Engines;
using Kiln.Server.Gateway;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Turns one deployment's replica scrapes and gateway counters into a <see cref="LoadSample"/>:
/// occupancy averaged over READY replicas, concurrency from whichever of the gateway and the
/// replicas sees more, and rates from counter differences since the previous sample.
/// </summary>
/// <remarks>
/// A pass that reuses a quiet deployment's last scrape instead of scraping again
/// (<see cref="Kiln.Core.Autoscaling.ScrapeReuse"/>) adds no tokens: its token rates are 0, and
/// the replicas' counters and the time they were read stay as they were. The next real scrape's
/// difference is then divided by the whole time since the scrape it is measured from, so tokens
/// generated meanwhile (by requests that reached the replicas some other way) come out as their
/// average rate over the skipped passes, not as a burst in the last interval.
/// </remarks>
public sealed class LoadSampler
{
    private DateTimeOffset? _previousTime;
    private DateTimeOffset? _previousScrapeTime;
    private long _previousArrivals;
    private readonly Dictionary<string, (double Generated, double Prompt)> _previousReplica = [];

    /// <summary>
    /// The sample at <paramref name="now"/>, reading the replicas' metrics by <paramref name="engine"/>'s
    /// names; <paramref name="reused"/> when <paramref name="scrapes"/> are an earlier pass's.
    /// </summary>
    public LoadSample Take(DateTimeOffset now, DeploymentRoute route, IReadOnlyList<(string ReplicaId, PrometheusScrape Scrape)> scrapes, EngineProfile engine, bool reused)
    {
        var signals = scrapes.Select(x => (x.ReplicaId, Load: engine.Metrics.Read(x.Scrape.Sum, engine.MaxBatch))).ToList();
        var seconds = _previousTime is { } t ? (now - t).TotalSeconds : 0;
        var arrivals = route.Counters.Arrivals;
        var (generated, prompt, tokenSeconds) = reused ? (0d, 0d, 0d) : Tokens(now, signals);
        var requestsPerSecond = seconds > 0 ? (arrivals - _previousArrivals) / seconds : 0;
        _previousTime = now;
        _previousArrivals = arrivals;

        var replicaConcurrency = signals.Sum(x => x.Load.Running + x.Load.Waiting);
        return new LoadSample
        {
            Time = now,
            ReadyReplicas = scrapes.Count,
            BatchOccupancy = signals.Count == 0 ? 0 : signals.Average(x => x.Load.BatchOccupancy),
            ConcurrentRequests = Math.Max(route.Counters.InFlight, replicaConcurrency),
            RequestsPerSecond = requestsPerSecond,
            TokensGeneratedPerSecond = tokenSeconds > 0 ? generated / tokenSeconds : 0,
            PromptTokensPerSecond = tokenSeconds > 0 ? prompt / tokenSeconds : 0,
        };
    }

    // Tokens since the replicas' counters were last read, and the seconds since then; keeps these counters for the next read.
    private (double Generated, double Prompt, double Seconds) Tokens(DateTimeOffset now, List<(string ReplicaId, ReplicaLoadSignals Load)> signals)
    {
        var seconds = _previousScrapeTime is { } t ? (now - t).TotalSeconds : 0;
        double generated = 0, prompt = 0;
        var seen = new Dictionary<string, (double Generated, double Prompt)>();
        foreach (var (id, load) in signals)
        {
            var totals = (load.GeneratedTokens, load.PromptTokens);
            seen[id] = totals;
            // A replica new since the last sample (or restarted, its counters reset) adds nothing yet.
            if (_previousReplica.TryGetValue(id, out var before) && totals.Item1 >= before.Generated && totals.Item2 >= before.Prompt)
            {
                generated += totals.Item1 - before.Generated;
                prompt += totals.Item2 - before.Prompt;
            }
        }
        _previousReplica.Clear();
        foreach (var kv in seen)
        {
            _previousReplica[kv.Key] = kv.Value;
        }
        _previousScrapeTime = now;
        return (generated, prompt, seconds);
    }
}
