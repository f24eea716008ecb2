using Kiln.Core.Autoscaling;
using Kiln.Core.Engines;
using Kiln.Server.Gateway;

namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// Turns one deployment's replica scrapes and gateway counters into a <see cref="LoadSample"/>:
/// occupancy averaged over READY replicas, concurrency from whichever of the gateway and the
/// replicas sees more, and rates from counter differences since the previous sample.
/// </summary>
public sealed class LoadSampler
{
    private DateTimeOffset? _previousTime;
    private long _previousArrivals;
    private readonly Dictionary<string, (double Generated, double Prompt)> _previousReplica = [];

    /// <summary>The sample at <paramref name="now"/>, reading the replicas' metrics by <paramref name="engine"/>'s names.</summary>
    public LoadSample Take(DateTimeOffset now, DeploymentRoute route, IReadOnlyList<(string ReplicaId, PrometheusScrape Scrape)> scrapes, EngineProfile engine)
    {
        var signals = scrapes.Select(x => (x.ReplicaId, Load: engine.Metrics.Read(name => Sum(x.Scrape, name), engine.MaxBatch))).ToList();
        var seconds = _previousTime is { } t ? (now - t).TotalSeconds : 0;
        var arrivals = route.Counters.Arrivals;
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
            TokensGeneratedPerSecond = seconds > 0 ? generated / seconds : 0,
            PromptTokensPerSecond = seconds > 0 ? prompt / seconds : 0,
        };
    }

    // An engine labels its metrics (model_name, tp_rank, ...): a signal is the sum over them, absent when none.
    private static double? Sum(PrometheusScrape scrape, string name) =>
        scrape.Samples.Any(s => s.Name == name) ? scrape.Sum(name) : null;
}
