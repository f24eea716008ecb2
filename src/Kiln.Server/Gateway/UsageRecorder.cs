using Kiln.Core.Names;
using Kiln.Core.Time;
using Kiln.Store;

namespace Kiln.Server.Gateway;

/// <summary>
/// Adds up served requests per (account, key, deployment, model, second) and the newest request per
/// deployment in memory; <see cref="UsageFlusher"/> writes them in one transaction a second, so the
/// request path never waits for the disk.
/// </summary>
public sealed class UsageRecorder(IKilnStore store, IClock clock)
{
    private readonly Lock _gate = new();
    private Dictionary<(string Account, string Key, string Deployment, string Model, long Second), long[]> _usage = [];
    private Dictionary<DeploymentName, DateTimeOffset> _last = [];

    /// <summary>Notes an arrival for the deployment's <c>lastRequestTime</c>.</summary>
    public void Arrived(DeploymentName deployment, DateTimeOffset time)
    {
        lock (_gate)
        {
            if (!_last.TryGetValue(deployment, out var seen) || seen < time)
            {
                _last[deployment] = time;
            }
        }
    }

    /// <summary>Adds one served request.</summary>
    public void Served(string account, string keyId, DeploymentName deployment, string model, long promptTokens, long completionTokens)
    {
        var second = clock.UtcNow.ToUnixTimeMilliseconds() / 1_000;
        lock (_gate)
        {
            var key = (account, keyId, deployment.Deployment, model, second);
            if (!_usage.TryGetValue(key, out var sums))
            {
                _usage[key] = sums = new long[3];
            }
            sums[0]++;
            sums[1] += promptTokens;
            sums[2] += completionTokens;
        }
    }

    /// <summary>Writes what accumulated since the last flush; on failure it is kept for the next one.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        Dictionary<(string Account, string Key, string Deployment, string Model, long Second), long[]> usage;
        Dictionary<DeploymentName, DateTimeOffset> last;
        lock (_gate)
        {
            if (_usage.Count == 0 && _last.Count == 0)
            {
                return;
            }
            (usage, _usage) = (_usage, []);
            (last, _last) = (_last, []);
        }
        try
        {
            await store.RecordRequestUsageAsync(
                [.. usage.Select(kv => new RequestUsage(kv.Key.Account, kv.Key.Key, kv.Key.Deployment, kv.Key.Model,
                    DateTimeOffset.FromUnixTimeMilliseconds(kv.Key.Second * 1_000), kv.Value[0], kv.Value[1], kv.Value[2]))],
                [.. last.Select(kv => new LastRequest(kv.Key.Account, kv.Key.Deployment, kv.Value))],
                ct);
        }
        catch
        {
            lock (_gate)
            {
                foreach (var (k, v) in usage)
                {
                    if (_usage.TryGetValue(k, out var sums))
                    {
                        for (var i = 0; i < 3; i++) sums[i] += v[i];
                    }
                    else
                    {
                        _usage[k] = v;
                    }
                }
                foreach (var (k, t) in last)
                {
                    if (!_last.TryGetValue(k, out var seen) || seen < t) _last[k] = t;
                }
            }
            throw;
        }
    }
}
