using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>A minimal REST client: JSON in, (status, JSON) out.</summary>
public sealed class Api(Uri baseUri, string key) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };

    public sealed record Reply(HttpStatusCode Status, JsonElement Body)
    {
        public string Code => Body.TryGetProperty("code", out var c) ? c.GetString() ?? "" : "";
        public string Message => Body.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
        public string Str(string name) => Body.GetProperty(name).GetString() ?? "";
        public override string ToString() => $"{(int)Status} {Body}";
    }

    public Task<Reply> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);
    public Task<Reply> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);
    public Task<Reply> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);
    public Task<Reply> PatchAsync(string path, object body) => SendAsync(HttpMethod.Patch, path, body);

    public async Task<Reply> UploadAsync(string path, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await SendAsync(HttpMethod.Put, path, content);
    }

    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Content = body switch
        {
            null => null,
            HttpContent c => c,
            string s => new StringContent(s, Encoding.UTF8, "application/json"),
            _ => new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new Reply(response.StatusCode, json);
    }

    public void Dispose() => _http.Dispose();
}
