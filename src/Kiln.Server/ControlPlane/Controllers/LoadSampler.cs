using Kiln.Core.Autoscaling;
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

    /// <summary>The sample at <paramref name="now"/>.</summary>
    public LoadSample Take(DateTimeOffset now, DeploymentRoute route, IReadOnlyList<(string ReplicaId, PrometheusScrape Scrape)> scrapes)
    {
        var seconds = _previousTime is { } t ? (now - t).TotalSeconds : 0;
        var arrivals = route.Counters.Arrivals;
        double generated = 0, prompt = 0;
        var seen = new Dictionary<string, (double Generated, double Prompt)>();
        foreach (var (id, s) in scrapes)
        {
            var totals = (s.Value("kiln_generated_tokens_total") ?? 0, s.Value("kiln_prompt_tokens_total") ?? 0);
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

        var replicaConcurrency = scrapes.Sum(x => (x.Scrape.Value("kiln_active_sequences") ?? 0) + (x.Scrape.Value("kiln_queue_depth") ?? 0));
        return new LoadSample
        {
            Time = now,
            ReadyReplicas = scrapes.Count,
            BatchOccupancy = scrapes.Count == 0 ? 0 : scrapes.Average(x => x.Scrape.Value("kiln_batch_occupancy") ?? 0),
            ConcurrentRequests = Math.Max(route.Counters.InFlight, replicaConcurrency),
            RequestsPerSecond = requestsPerSecond,
            TokensGeneratedPerSecond = seconds > 0 ? generated / seconds : 0,
            PromptTokensPerSecond = seconds > 0 ? prompt / seconds : 0,
        };
    }
}
