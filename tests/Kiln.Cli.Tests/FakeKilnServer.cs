using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Tests;

/// <summary>One request as the fake server saw it.</summary>
internal sealed record RecordedRequest(Uri Url, string Method, string Path, string Query, string? Authorization,
    string? ContentType, long? ContentLength, byte[] Body, bool BodyWasStreamed)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
    public JsonObject Json => (JsonObject)JsonNode.Parse(BodyText)!;
}

/// <summary>
/// An in-process stand-in for the control plane: it records every request and answers from
/// routes registered per method and path; unknown routes answer the API's 404.
/// </summary>
internal sealed class FakeKilnServer : HttpMessageHandler
{
    private readonly Dictionary<string, Queue<Func<RecordedRequest, (int Status, string Body)>>> _routes = [];
    private readonly Lock _lock = new();

    public List<RecordedRequest> Requests { get; } = [];

    public FakeKilnServer()
    {
        On("GET", "/v1/whoami", """{"account":"accounts/acme","accountId":"acme","apiKeyId":"key1","admin":false}""");
    }

    /// <summary>Answers each call with the next body in turn; the last one repeats.</summary>
    public FakeKilnServer On(string method, string path, params string[] bodies) =>
        On(method, path, bodies.Select(b => (Func<RecordedRequest, (int, string)>)(_ => (200, b))).ToArray());

    public FakeKilnServer OnStatus(string method, string path, int status, string body) =>
        On(method, path, _ => (status, body));

    public FakeKilnServer On(string method, string path, params Func<RecordedRequest, (int Status, string Body)>[] responders)
    {
        lock (_lock)
            _routes[$"{method} {path}"] = new Queue<Func<RecordedRequest, (int, string)>>(responders);
        return this;
    }

    public IEnumerable<RecordedRequest> Calls(string method, string path) =>
        Requests.Where(r => r.Method == method && r.Path == path);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] body = [];
        var streamed = false;
        long? length = null;
        if (request.Content is { } content)
        {
            length = content.Headers.ContentLength;
            streamed = content is not (ByteArrayContent or StringContent);
            using var buffer = new MemoryStream();
            await content.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }
        var uri = request.RequestUri!;
        var recorded = new RecordedRequest(uri, request.Method.Method, Uri.UnescapeDataString(uri.AbsolutePath), uri.Query,
            request.Headers.Authorization?.ToString(), request.Content?.Headers.ContentType?.MediaType, length, body, streamed);

        Func<RecordedRequest, (int, string)>? responder = null;
        lock (_lock)
        {
            Requests.Add(recorded);
            var key = $"{recorded.Method} {recorded.Path}";
            if (!_routes.TryGetValue(key, out var queue))
                key = $"{recorded.Method} {uri.GetLeftPart(UriPartial.Path)}";
            if (_routes.TryGetValue(key, out queue))
                responder = queue.Count > 1 ? queue.Dequeue() : queue.Peek();
        }
        var (status, text) = responder?.Invoke(recorded)
            ?? (404, $$"""{"code":"NOT_FOUND","message":"no route {{recorded.Method}} {{recorded.Path}}"}""");
        return new HttpResponseMessage((HttpStatusCode)status)
        {
            Content = new StringContent(text, Encoding.UTF8, "application/json"),
        };
    }
}
