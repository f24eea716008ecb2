using System.Net.Http.Json;
using System.Text.Json;
using Kiln.Core.Engines;
using Kiln.Runtime;

namespace Kiln.Server.ControlPlane.Addons;

/// <summary>
/// A replica's adapter API as the reconciler uses it, in its engine's shape: Kiln's
/// <c>/v1/adapters</c>, or vLLM's and SGLang's load and unload endpoints (<see cref="AddonProtocol.LoraEndpoints"/>).
/// </summary>
public sealed class ReplicaAdapterClient : IDisposable
{
    // Loading reads and checks the adapter's tensors; large adapters take a while.
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    // An unload answers only once the adapter's in-flight requests are done; the caller bounds it.
    private readonly HttpClient _unload = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The adapters a replica holds, by name: true when loaded, false while unloading. Null when it did not answer.</summary>
    public async Task<IReadOnlyDictionary<string, bool>?> ListAsync(ReplicaHandle replica, AddonSupport engine, CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            var lora = engine.Protocol == AddonProtocol.LoraEndpoints;
            using var doc = JsonDocument.Parse(await _http.GetStringAsync(Route(replica, lora ? engine.ListPath : "v1/adapters"), cts.Token));
            var result = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var a in doc.RootElement.GetProperty("data").EnumerateArray())
            {
                if (!lora)
                {
                    result[a.GetProperty("name").GetString()!] = a.GetProperty("state").GetString() == "loaded";
                }
                // An engine lists a loaded adapter as a model whose parent is the base model.
                else if (a.TryGetProperty("parent", out var parent) && parent.ValueKind == JsonValueKind.String)
                {
                    result[a.GetProperty("id").GetString()!] = true;
                }
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
    public async Task<(string Error, bool Refused)?> LoadAsync(ReplicaHandle replica, AddonSupport engine, string name, string path, CancellationToken ct)
    {
        try
        {
            using var response = engine.Protocol == AddonProtocol.LoraEndpoints
                ? await _http.PostAsJsonAsync(Route(replica, engine.LoadPath), new { lora_name = name, lora_path = path }, ct)
                : await _http.PostAsJsonAsync(Route(replica, "v1/adapters"), new { name, path, scale = 1.0 }, ct);
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
    public async Task UnloadAsync(ReplicaHandle replica, AddonSupport engine, string name, TimeSpan timeout)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            using var response = engine.Protocol == AddonProtocol.LoraEndpoints
                ? await _unload.PostAsJsonAsync(Route(replica, engine.UnloadPath), new { lora_name = name }, cts.Token)
                : await _unload.DeleteAsync(Route(replica, "v1/adapters/" + name), cts.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
        }
    }

    private static Uri Route(ReplicaHandle replica, string path) => new(replica.BaseUri, path.TrimStart('/'));

    private static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            // OpenAI's shape, or the {"message": ...} some engines answer with.
            return (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                ? error.GetProperty("message").GetString()
                : root.GetProperty("message").GetString()) ?? body;
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
