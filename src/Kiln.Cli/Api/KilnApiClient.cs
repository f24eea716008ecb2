using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Api;

/// <summary>
/// A thin JSON-over-HTTP client of the control-plane API. Resources stay <see cref="JsonObject"/>s so
/// that <c>-o json</c> can print exactly what the server answered, fields unknown to kilnctl included.
/// </summary>
public sealed class KilnApiClient : IDisposable
{
    private const int ListPageSize = 200;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);

    private readonly HttpClient _http;
    private readonly string _apiKey;

    public KilnApiClient(Uri server, string apiKey, HttpMessageHandler? handler = null)
    {
        Server = server;
        _apiKey = apiKey;
        // Uploads of multi-GB files run longer than any fixed client timeout; plain calls get their own.
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public Uri Server { get; }

    public Task<JsonObject> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonObject> PostAsync(string path, JsonNode? body, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, JsonContent(body ?? new JsonObject()), ct);

    public Task<JsonObject> PatchAsync(string path, JsonNode body, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, path, JsonContent(body), ct);

    public Task<JsonObject> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    /// <summary>Streams <paramref name="source"/> as the raw request body, showing each chunk to <paramref name="sent"/>.</summary>
    public async Task<JsonObject> PutStreamAsync(string path, Stream source, long length, Action<ReadOnlyMemory<byte>> sent, CancellationToken ct)
    {
        var content = new ProgressStreamContent(source, length, sent);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = NewRequest(HttpMethod.Put, path, content);
        return await ExecuteAsync(request, ct, timeout: false);
    }

    /// <summary>Fetches every page of a list, following nextPageToken until it comes back empty.</summary>
    public async Task<List<JsonObject>> ListAllAsync(string path, string itemsField, string? extraQuery, CancellationToken ct)
    {
        var items = new List<JsonObject>();
        var token = "";
        var seen = new HashSet<string>();
        while (true)
        {
            var query = new StringBuilder($"?pageSize={ListPageSize}");
            if (token.Length > 0)
                query.Append("&pageToken=").Append(Uri.EscapeDataString(token));
            if (!string.IsNullOrEmpty(extraQuery))
                query.Append('&').Append(extraQuery);
            var page = await GetAsync(path + query, ct);
            if (page[itemsField] is JsonArray array)
            {
                foreach (var item in array)
                {
                    if (item is JsonObject obj)
                        items.Add((JsonObject)obj.DeepClone());
                }
            }
            token = Formatting.Json.Str(page, "nextPageToken");
            // A server handing back a token it already gave would otherwise loop forever.
            if (token.Length == 0 || !seen.Add(token))
                return items;
        }
    }

    private static StringContent JsonContent(JsonNode body) =>
        new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private HttpRequestMessage NewRequest(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, new Uri(Server, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = NewRequest(method, path, content);
        return await ExecuteAsync(request, ct, timeout: true);
    }

    private async Task<JsonObject> ExecuteAsync(HttpRequestMessage request, CancellationToken ct, bool timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout)
            cts.CancelAfter(RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cts.Token);
        }
        catch (HttpRequestException e)
        {
            throw new KilnConnectionException(Server, e.Message, e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new KilnConnectionException(Server, $"no answer within {RequestTimeout.TotalSeconds:0}s", e);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cts.Token);
            if (!response.IsSuccessStatusCode)
                throw ToApiException(response.StatusCode, body);
            if (string.IsNullOrWhiteSpace(body))
                return [];
            try
            {
                return JsonNode.Parse(body) as JsonObject
                    ?? throw new KilnConnectionException(Server, "the server answered JSON that is not an object", null);
            }
            catch (JsonException e)
            {
                throw new KilnConnectionException(Server, $"the server answered something that is not JSON ({e.Message})", e);
            }
        }
    }

    internal static KilnApiException ToApiException(HttpStatusCode status, string body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject error)
            {
                var code = error["code"]?.ToString();
                var message = error["message"]?.ToString();
                if (!string.IsNullOrEmpty(code) || !string.IsNullOrEmpty(message))
                    return new KilnApiException(status, string.IsNullOrEmpty(code) ? HttpCode(status) : code, message ?? "");
            }
        }
        catch (JsonException)
        {
            // Not the API's error shape (e.g. a proxy's HTML page): fall through to the raw text.
        }
        var text = body.Trim();
        if (text.Length > 300)
            text = text[..300] + "...";
        return new KilnApiException(status, HttpCode(status), text.Length > 0 ? text : status.ToString());
    }

    private static string HttpCode(HttpStatusCode status) => $"HTTP {(int)status}";

    public void Dispose() => _http.Dispose();
}
