using Kiln.Core.Engines;
using System.Collections.Concurrent;
using System.Reflection;
using Kiln.Core.Deployments;
using Kiln.Core.Names;
using Kiln.Server.Gateway;
using Kiln.Store;
using Kiln.Store.Sqlite;

namespace Kiln.Server.Tests.Gateway;

public sealed class ReplicaDirectoryTests : IDisposable
{
    private static readonly DeploymentName Web = new("acme", "web");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-directory-tests", Guid.NewGuid().ToString("N"));
    private readonly SqliteKilnStore _store;
    private readonly IKilnStore _counted;
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ReplicaClient _client = new();

    public ReplicaDirectoryTests()
    {
        _store = SqliteKilnStore.Open(Path.Combine(_dir, "kiln.db"));
        _store.CreateAccountAsync(new NewAccount("acme")).GetAwaiter().GetResult();
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/acme/models/m", MinReplicaCount = 0 });
        _store.CreateDeploymentAsync(new NewDeployment("acme", "web", spec, 1)).GetAwaiter().GetResult();
        _counted = CountingStore.Wrap(_store, _calls);
    }

    public void Dispose()
    {
        _client.Dispose();
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task ReadyAsync(string id, int port) => _store.UpsertReplicaAsync(new ReplicaRecord
    {
        Account = "acme",
        DeploymentId = "web",
        ReplicaId = id,
        Phase = ReplicaPhase.Ready,
        Generation = 1,
        RuntimeHandle = "pid:1",
        Port = port,
        Host = "127.0.0.1",
        StartTime = DateTimeOffset.UtcNow,
        ReadyTime = DateTimeOffset.UtcNow,
    });

    private int Reads => _calls.GetValueOrDefault(nameof(IKilnStore.ListAllReplicasAsync));

    [Fact]
    public async Task A_refresh_reads_the_tables_only_when_the_routing_generation_moved()
    {
        await ReadyAsync("r1", 18001);
        // Refreshes only when the test asks, or when a new replica's connections are open.
        var directory = new ReplicaDirectory(_counted, new GatewayOptions { DirectoryRefresh = TimeSpan.FromMinutes(1) }, EngineCatalog.Default, new ReplicaConnectionOpener(_client));

        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(["r1"], directory.Find(Web)!.Endpoints.Select(e => e.ReplicaId));
        Assert.Equal(1, Reads);

        // Nothing routable changed: one small read, the same table.
        await directory.RefreshAsync(CancellationToken.None);
        await _store.RecordRequestUsageAsync([], [new LastRequest("acme", "web", DateTimeOffset.UtcNow)]);
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(1, Reads);
        Assert.Equal(3, _calls[nameof(IKilnStore.GetRoutingGenerationAsync)]);

        // A new READY replica, then a moved one, are each read on the next refresh and routed to by
        // the refresh after the gateway's connections to them were opened (here: refused, which
        // ends the wait as well), which reads the tables again though nothing in them changed.
        await ReadyAsync("r2", 18002);
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(2, Reads);
        Assert.Equal(["r1"], directory.Find(Web)!.Endpoints.Select(e => e.ReplicaId));
        await directory.WaitForPromptAsync(CancellationToken.None);
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(3, Reads);
        Assert.Equal(["r1", "r2"], directory.Find(Web)!.Endpoints.Select(e => e.ReplicaId).Order());
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(3, Reads);
        await ReadyAsync("r2", 18003);
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(4, Reads);
        await directory.WaitForPromptAsync(CancellationToken.None);
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(5, Reads);
        Assert.Equal(18003, directory.Find(Web)!.Endpoints.Single(e => e.ReplicaId == "r2").BaseUri.Port);

        // A spec change (a new version) is read too.
        var d = (await _store.GetDeploymentAsync("acme", "web"))!;
        await _store.SetDesiredReplicaCountAsync("acme", "web", 0, d.Version);
        await directory.RefreshAsync(CancellationToken.None);
        Assert.Equal(6, Reads);
        Assert.Equal(0, directory.Find(Web)!.Record.DesiredReplicaCount);
    }

    [Theory]
    [InlineData(EngineProfiles.KilnName, 3, 3)]
    [InlineData(EngineProfiles.KilnName, null, 8)]
    [InlineData(EngineProfiles.VllmName, null, ReplicaConnectionOpener.MaxConnections)]
    public async Task A_new_replica_gets_as_many_connections_as_its_engine_runs_sequences(string engine, int? maxBatch, int expected)
    {
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/acme/models/m", Engine = engine, MaxBatchSize = maxBatch });
        await _store.CreateDeploymentAsync(new NewDeployment("acme", "batch", spec, 1));
        using var replica = new HealthCounter();
        var directory = new ReplicaDirectory(_store, new GatewayOptions { DirectoryRefresh = TimeSpan.FromMinutes(1) }, EngineCatalog.Default, new ReplicaConnectionOpener(_client));
        // Replicas READY at the first refresh are routed to at once; one that becomes READY later is opened first.
        await directory.RefreshAsync(CancellationToken.None);
        await _store.UpsertReplicaAsync(new ReplicaRecord
        {
            Account = "acme",
            DeploymentId = "batch",
            ReplicaId = "b1",
            Phase = ReplicaPhase.Ready,
            Generation = 1,
            RuntimeHandle = "pid:1",
            Port = replica.Port,
            Host = "127.0.0.1",
            StartTime = DateTimeOffset.UtcNow,
            ReadyTime = DateTimeOffset.UtcNow,
        });
        await directory.RefreshAsync(CancellationToken.None);
        await directory.WaitForPromptAsync(CancellationToken.None);
        Assert.Equal(expected, replica.Requests);
    }

    /// <summary>A replica that answers every request with 200 at once and counts them.</summary>
    private sealed class HealthCounter : IDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private int _requests;

        public HealthCounter()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;
        public int Requests => Volatile.Read(ref _requests);

        private async Task AcceptAsync()
        {
            while (true)
            {
                System.Net.Sockets.TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or System.Net.Sockets.SocketException)
                {
                    return;
                }
                _ = ServeAsync(client);
            }
        }

        private async Task ServeAsync(System.Net.Sockets.TcpClient client)
        {
            using var _ = client;
            var stream = client.GetStream();
            var reader = new StreamReader(stream);
            try
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    if (line.Length > 0) continue;
                    Interlocked.Increment(ref _requests);
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
                }
            }
            catch (IOException)
            {
            }
        }

        public void Dispose() => _listener.Stop();
    }

    /// <summary>Passes every call through to a store and counts them by method name.</summary>
    public class CountingStore : DispatchProxy
    {
        private IKilnStore _inner = null!;
        private ConcurrentDictionary<string, int> _calls = null!;

        public static IKilnStore Wrap(IKilnStore inner, ConcurrentDictionary<string, int> calls)
        {
            var proxy = Create<IKilnStore, CountingStore>();
            var counting = (CountingStore)(object)proxy;
            counting._inner = inner;
            counting._calls = calls;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            _calls.AddOrUpdate(targetMethod!.Name, 1, (_, n) => n + 1);
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
