using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiln.Bench;

/// <summary>
/// A Kiln server to benchmark against: either one this process starts (its own <c>kiln server</c>
/// on a free port and a temporary data directory, removed afterwards) or a running one.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly string? _dataDir;

    private BenchServer(Uri baseUri, string apiKey, Process? process, string? dataDir)
    {
        BaseUri = baseUri;
        ApiKey = apiKey;
        _process = process;
        _dataDir = dataDir;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(5) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public Uri BaseUri { get; }
    public string ApiKey { get; }
    public HttpClient Http { get; }
    public bool Started => _process is not null;

    /// <summary>The started server's process ID; null for an attached one.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>Connects to a running server.</summary>
    public static BenchServer Attach(Uri baseUri, string apiKey) => new(baseUri, apiKey, null, null);

    /// <summary>Starts <c>kiln server</c> from <paramref name="kiln"/> with extra flags.</summary>
    public static async Task<BenchServer> StartAsync(string kiln, params string[] flags)
    {
        var dir = Path.Combine(Path.GetTempPath(), "kiln-bench-" + Guid.NewGuid().ToString("N")[..10]);
        var port = ChildProcess.FreeLoopbackPort();
        var listening = new TaskCompletionSource();
        var p = ChildProcess.Start(kiln, new[] { "server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dir }.Concat(flags),
            line => { if (line.Contains("listening on", StringComparison.Ordinal)) listening.TrySetResult(); });
        await Task.WhenAny(listening.Task, p.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
        if (!listening.Task.IsCompleted)
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"kiln server did not start (exit {(p.HasExited ? p.ExitCode : -1)})");
        }
        var key = (await File.ReadAllTextAsync(Path.Combine(dir, "admin-api-key"))).Trim();
        return new BenchServer(new Uri($"http://127.0.0.1:{port}/"), key, p, dir);
    }

    /// <summary>Uploads a GGUF file as model <paramref name="modelId"/> of account "default".</summary>
    public async Task ImportAsync(string modelId, string path)
    {
        await SendAsync(HttpMethod.Post, $"/v1/accounts/default/models?modelId={modelId}", "{}");
        await using var file = File.OpenRead(path);
        using var content = new StreamContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var r = await Http.PutAsync($"/v1/accounts/default/models/{modelId}:upload", content);
        await EnsureAsync(r);
    }

    /// <summary>Creates a deployment of account "default" from a JSON spec.</summary>
    public Task<JsonElement> CreateDeploymentAsync(string id, object spec) =>
        SendAsync(HttpMethod.Post, $"/v1/accounts/default/deployments?deploymentId={id}", JsonSerializer.Serialize(spec));

    /// <summary>GET of a deployment by its full name.</summary>
    public Task<JsonElement> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    /// <summary>Polls a deployment until <paramref name="done"/> holds.</summary>
    public async Task<JsonElement> WaitAsync(string deployment, Func<JsonElement, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var d = await GetAsync($"/v1/{deployment}");
            if (done(d)) return d;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Ports of the deployment's READY replicas.</summary>
    public static List<int> ReadyPorts(JsonElement deployment) =>
        [.. deployment.GetProperty("replicas").EnumerateArray()
            .Where(r => r.GetProperty("phase").GetString() == "READY")
            .Select(r => r.GetProperty("port").GetInt32())];

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var r = await Http.SendAsync(request);
        return await EnsureAsync(r);
    }

    private static async Task<JsonElement> EnsureAsync(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)r.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        // SIGTERM lets the server stop its replicas.
        if (_process is not null) await ChildProcess.StopAsync(_process, TimeSpan.FromSeconds(40));
        _process?.Dispose();
        if (_dataDir is not null) try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
