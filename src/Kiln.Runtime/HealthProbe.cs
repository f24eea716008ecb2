using System.Net;
using System.Text.Json;

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
            using var response = await _http.GetAsync(new Uri(replica.BaseUri, "health"), ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return new ReplicaProbe(ReplicaHealth.Ready);
            }
            // A replica whose model failed to load may stay up and say so: {"status":"error","error":"..."}.
            var body = await response.Content.ReadAsStringAsync(ct);
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
                    && status.GetString() == "error")
                {
                    var error = json.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                    return new ReplicaProbe(ReplicaHealth.Failed, error ?? "the model failed to load");
                }
            }
            catch (JsonException)
            {
            }
            return new ReplicaProbe(ReplicaHealth.Loading);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new ReplicaProbe(ReplicaHealth.Unreachable);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
