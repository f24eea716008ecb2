namespace Kiln.Runtime;

/// <summary>Asks a replica's <c>/health</c> whether it serves, for any runtime.</summary>
public sealed class HealthProbe : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Creates a probe; each probe may take <paramref name="timeout"/> (2 s by default).</summary>
    public HealthProbe(TimeSpan? timeout = null)
    {
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(2),
        };
    }

    /// <summary>The replica's verdict; unreachable while it has no endpoint yet.</summary>
    public async Task<ReplicaProbe> ProbeAsync(ReplicaHandle replica, CancellationToken ct = default)
    {
        if (!replica.HasEndpoint)
        {
            return new ReplicaProbe(ReplicaHealth.Unreachable);
        }
        try
        {
            using var response = await _http.GetAsync(new Uri(replica.BaseUri, replica.HealthPath.TrimStart('/')), ct);
            return HealthAnswer.Read(response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new ReplicaProbe(ReplicaHealth.Unreachable);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
