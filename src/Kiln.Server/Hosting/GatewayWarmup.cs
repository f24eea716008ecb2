using System.Net.Http.Headers;
using System.Text;
using Kiln.Core.Auth;
using Kiln.Core.Deployments;
using Kiln.Core.Names;
using Kiln.Server.Logging;
using Kiln.Server.Replica;
using Kiln.Store;
using Kiln.Store.Sqlite;

namespace Kiln.Server.Hosting;

/// <summary>What a <see cref="GatewayWarmup"/> did.</summary>
/// <param name="Rounds">Rounds of requests sent.</param>
/// <param name="Requests">Requests sent through the gateway.</param>
/// <param name="Proxied">Of those, the ones the gateway proxied to the stand-in replica and relayed whole.</param>
/// <param name="MethodsCompiled">Methods the JIT compiled meanwhile (in the whole process).</param>
/// <param name="CompileTime">Time the JIT spent compiling them.</param>
/// <param name="Elapsed">How long it took, setting up included.</param>
/// <param name="Stopped">Why it stopped before the JIT went quiet, or null.</param>
internal sealed record GatewayWarmupReport(int Rounds, int Requests, int Proxied, long MethodsCompiled, TimeSpan CompileTime, TimeSpan Elapsed, string? Stopped)
{
    /// <summary>Methods compiled during each round and the pause after it.</summary>
    public IReadOnlyList<long> CompiledPerRound { get; init; } = [];

    public override string ToString() =>
        $"{Requests} requests in {Rounds} rounds, {Proxied} proxied to a stand-in replica, {MethodsCompiled} methods compiled in {CompileTime.TotalMilliseconds:F0} ms " +
        $"({string.Join(", ", CompiledPerRound)} per round), {Elapsed.TotalMilliseconds:F0} ms" + (Stopped is null ? "" : $" ({Stopped})");
}

/// <summary>
/// Sends rounds of inference requests (completions and chat, plain and streamed, by model and by
/// deployment, under both prefixes) through a <see cref="WarmupGateway"/> to a <see cref="StandInReplica"/>
/// when the server starts. A server's first proxied requests otherwise run the gateway's code
/// (Kestrel, routing, authentication, body parsing, the proxy, the replica client, metering, the
/// SSE relay, the access log) unoptimised and pay its compiles: a few hundred milliseconds of CPU,
/// taken from the replica that has just woken for them. The JIT's code is the process's, whichever
/// host ran it; the warm-up's scratch store, usage and counters are its own and thrown away.
/// </summary>
internal static class GatewayWarmup
{
    /// <summary>The default time budget of the whole warm-up.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(10);

    private const string Account = "warmup";
    private const string DeploymentId = "warmup";
    private const string Model = $"accounts/{Account}/models/warmup";
    private const int Clients = 8;
    private const string CompletionInput = """
        "prompt":"Once upon a time"
        """;
    private const string ChatInput = """
        "messages":[{"role":"user","content":"Tell me a story."}]
        """;
    private const string StreamingFields = """
        ,"stream":true,"stream_options":{"include_usage":true}
        """;
    private static readonly TimeSpan RoutedPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>A scratch folder this old belongs to no running warm-up: its server was killed before it could remove it.</summary>
    public static readonly TimeSpan LeftoverAge = TimeSpan.FromDays(1);

    /// <summary>
    /// Runs the warm-up within <paramref name="budget"/>, its scratch store in a folder of its own
    /// under <paramref name="scratchRoot"/>; throws only when it could not be set up.
    /// </summary>
    public static async Task<GatewayWarmupReport> RunAsync(ServerOptions options, string scratchRoot, TimeSpan budget, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RemoveLeftovers(scratchRoot);
        var scratch = Path.Combine(scratchRoot, RandomIds.New("", 12));
        using var setup = CancellationTokenSource.CreateLinkedTokenSource(ct);
        setup.CancelAfter(budget);
        try
        {
            await using var replica = await StandInReplica.StartAsync(setup.Token);
            using var store = SqliteKilnStore.Open(Path.Combine(scratch, "kiln.db"));
            var key = await SeedAsync(store, replica.BaseUri, setup.Token);
            await using var gateway = await WarmupGateway.StartAsync(store, options, setup.Token);
            while (gateway.Directory.Find(new DeploymentName(Account, DeploymentId)) is not { Endpoints.Count: > 0 })
            {
                await Task.Delay(RoutedPoll, setup.Token);
            }
            // Through the handler, as the gateway itself reaches replicas: HttpClient's own layer would be compiled for nothing.
            using var http = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false });
            var auth = new AuthenticationHeaderValue("Bearer", key);
            var requests = Enumerable.Range(0, Clients).Select(i => Request(gateway.BaseUri, i)).ToArray();
            var rounds = 0;
            // Every other round's requests come on connections of their own, as from clients that do not
            // keep theirs: the server accepts one per request, and closes it after.
            var result = await WarmupRounds.RunAsync(
                async deadline =>
                {
                    var newConnections = rounds++ % 2 == 1;
                    return (await Task.WhenAll(requests.Select(r => SendAsync(http, r, auth, newConnections, deadline)))).FirstOrDefault(f => f is not null);
                },
                budget - clock.Elapsed, ct);
            return new GatewayWarmupReport(result.Rounds, result.Rounds * Clients, replica.Answered, result.MethodsCompiled, result.CompileTime, clock.Elapsed, result.Stopped)
            {
                CompiledPerRound = result.CompiledPerRound,
            };
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>
    /// Removes the scratch folders of warm-ups older than <see cref="LeftoverAge"/>. Several server
    /// instances may share the data directory, so a younger folder may be another's, still in use.
    /// </summary>
    private static void RemoveLeftovers(string scratchRoot)
    {
        if (!Directory.Exists(scratchRoot)) return;
        foreach (var folder in Directory.EnumerateDirectories(scratchRoot))
        {
            try
            {
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > LeftoverAge)
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another instance removed it first, or it is not ours to remove: either way not this warm-up's concern.
            }
        }
    }

    /// <summary>An account with a key, and a deployment whose one READY replica is the stand-in; returns the key.</summary>
    private static async Task<string> SeedAsync(IKilnStore store, Uri replica, CancellationToken ct)
    {
        var key = ApiKeys.Generate();
        await store.CreateAccountAsync(new NewAccount(Account), ct);
        await store.CreateApiKeyAsync(new NewApiKey(Account, "warmup", ApiKeys.Hash(key)), ct);
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = Model, MinReplicaCount = 1 });
        await store.CreateDeploymentAsync(new NewDeployment(Account, DeploymentId, spec, 1), ct);
        var now = DateTimeOffset.UtcNow;
        await store.UpsertReplicaAsync(new ReplicaRecord
        {
            Account = Account,
            DeploymentId = DeploymentId,
            ReplicaId = "stand-in",
            Phase = ReplicaPhase.Ready,
            Generation = 1,
            RuntimeHandle = "in-process",
            Host = replica.Host,
            Port = replica.Port,
            StartTime = now,
            ReadyTime = now,
        }, ct);
        return key;
    }

    /// <summary>One request of a round: where it goes, whether it streams, and its body.</summary>
    private sealed record WarmupRequest(Uri Uri, bool Stream, byte[] Body);

    /// <summary>Request <paramref name="i"/> of a round: each bit of it picks one of two ways a client may ask.</summary>
    private static WarmupRequest Request(Uri gateway, int i)
    {
        var chat = (i & 1) != 0;
        var stream = (i & 2) != 0;
        var byDeployment = (i & 4) != 0;
        var path = $"{(byDeployment ? "inference/v1" : "v1")}/{(chat ? "chat/completions" : "completions")}";
        var model = byDeployment ? $"accounts/{Account}/deployments/{DeploymentId}" : Model;
        var input = chat ? ChatInput : CompletionInput;
        var streaming = stream ? StreamingFields : "";
        return new(new Uri(gateway, path), stream, Encoding.UTF8.GetBytes($$"""{"model":"{{model}}",{{input}},"max_tokens":4,"temperature":0{{streaming}}}"""));
    }

    /// <summary>Sends one request and reads its answer to the end; null when it succeeded, else why it did not.</summary>
    private static async Task<string?> SendAsync(HttpMessageInvoker http, WarmupRequest request, AuthenticationHeaderValue auth, bool newConnection, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Uri) { Content = new ByteArrayContent(request.Body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Authorization = auth;
        message.Headers.ConnectionClose = newConnection;
        using var response = await http.SendAsync(message, ct);
        var answer = await response.Content.ReadAsStringAsync(ct);
        var complete = !request.Stream || answer.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal);
        return response.IsSuccessStatusCode && complete ? null : $"{request.Uri.AbsolutePath}: HTTP {(int)response.StatusCode} {answer[..Math.Min(answer.Length, 400)]}";
    }
}
