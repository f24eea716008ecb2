using System.Net.Http.Json;
using System.Text.Json;
using Kiln.Runtime;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>The replica's adapter API (<c>/v1/adapters</c>) as the reconciler uses it.</summary>
public sealed class ReplicaAdapterClient : IDisposable
{
    // Loading reads and checks the adapter's tensors; large adapters take a while.
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    // An unload answers only once the adapter's in-flight requests are done; the caller bounds it.
    private readonly HttpClient _unload = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The adapters a replica holds, by name: true when loaded, false while unloading. Null when it did not answer.</summary>
    public async Task<IReadOnlyDictionary<string, bool>?> ListAsync(ReplicaHandle replica, CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(replica.BaseUri, "v1/adapters"), cts.Token));
            var result = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var a in doc.RootElement.GetProperty("data").EnumerateArray())
            {
                result[a.GetProperty("name").GetString()!] = a.GetProperty("state").GetString() == "loaded";
            }
            return result;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
            || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>
    /// Loads an adapter at scale 1; null on success, else why not. <c>Refused</c> is true when the
    /// replica read the adapter and rejected it (unreadable, or not fitting its model): retrying
    /// the same file cannot help, unlike a replica that did not answer.
    /// </summary>
    public async Task<(string Error, bool Refused)?> LoadAsync(ReplicaHandle replica, string name, string path, CancellationToken ct)
    {
        try
        {
            using var response = await _http.PostAsJsonAsync(new Uri(replica.BaseUri, "v1/adapters"), new { name, path, scale = 1.0 }, ct);
            if (response.IsSuccessStatusCode)
            {
                return null;
            }
            var body = await response.Content.ReadAsStringAsync(ct);
            var refused = response.StatusCode == System.Net.HttpStatusCode.BadRequest;
            return ($"HTTP {(int)response.StatusCode}: {ErrorMessage(body)}", refused);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return (e.Message, false);
        }
    }

    /// <summary>
    /// Unloads an adapter; completes once the replica has drained its requests and dropped it. A
    /// failure leaves it loaded, which the next pass sees and retries.
    /// </summary>
    public async Task UnloadAsync(ReplicaHandle replica, string name, TimeSpan timeout)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            using var response = await _unload.DeleteAsync(new Uri(replica.BaseUri, "v1/adapters/" + name), cts.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
        }
    }

    private static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("error").GetProperty("message").GetString() ?? body;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return body;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _unload.Dispose();
    }
}
