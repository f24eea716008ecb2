using System.Net;
using System.Net.Sockets;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.Gateway;
using Kiln.Store;
using Kiln.Store.Sqlite;
using Kiln.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kiln.Server.Tests.ControlPlane;

/// <summary>Scrapes over real HTTP: many replicas through the bounded workers, failures left out, the gateway's fallback.</summary>
public sealed class ReplicaScraperTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-scraper-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeClock _clock = new();
    private readonly ReplicaClient _client = new();
    private SqliteKilnStore _store = null!;
    private FakeMetricsReplica _replica = null!;
    private DeploymentRecord _record = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _store = SqliteKilnStore.Open(Path.Combine(_dir, "kiln.db"));
        _replica = await FakeMetricsReplica.StartAsync();
        await _store.CreateAccountAsync(new NewAccount("acme"));
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/acme/models/m", MinReplicaCount = 1, MaxReplicaCount = 1 });
        await _store.CreateDeploymentAsync(new NewDeployment("acme", "web", spec, 1));
        _record = (await _store.GetDeploymentAsync("acme", "web"))!;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _replica.DisposeAsync();
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private ReplicaScraper Scraper() => new(_client, _clock, NullLogger<ReplicaScraper>.Instance);

    private DeploymentRoute Route(IEnumerable<(string Id, int Port)> replicas)
    {
        var route = new DeploymentRoute(_record.Name, 8);
        route.Update(_record, [.. replicas.Select(r => (r.Id, new Uri($"http://127.0.0.1:{r.Port}/")))]);
        return route;
    }

    // A loopback port nothing listens on.
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task Every_replica_is_scraped_once_however_many_and_a_refusing_one_is_left_out()
    {
        _replica.Running = 3;
        // More replicas than scrapes run at once, so the workers each take several.
        var replicas = Enumerable.Range(0, 150).Select(i => ($"r{i}", _replica.Port)).Append(("dead", ClosedPort())).ToList();
        var route = Route(replicas);
        var filter = new PrometheusFilter(EngineProfiles.Kiln.Metrics.All);

        var scrapes = await Scraper().ScrapeAsync([route], _ => filter, CancellationToken.None);

        var got = scrapes[route.Name];
        Assert.Equal(150, got.Count);
        Assert.Equal(150, _replica.Scrapes);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => $"r{i}").Order(), got.Select(x => x.ReplicaId).Order());
        Assert.All(got, x => Assert.Equal(3, x.Scrape.Sum("kiln_active_sequences")));
        // Only the engine's signals are kept of each scrape.
        Assert.All(got, x => Assert.All(x.Scrape.Samples, s => Assert.Contains(s.Name, filter.Names)));
    }

    [Fact]
    public async Task The_gateways_scrape_falls_back_to_the_last_live_one_when_a_replica_stops_answering()
    {
        _replica.Running = 2;
        var scraper = Scraper();
        var route = Route([("r1", _replica.Port)]);
        var live = Assert.Single(await scraper.CurrentAsync([route], CancellationToken.None));
        Assert.True(live.Live);
        var at = live.At;

        await _replica.DisposeAsync();
        _clock.Advance(TimeSpan.FromSeconds(5));
        var fallback = Assert.Single(await scraper.CurrentAsync([route], CancellationToken.None));
        Assert.False(fallback.Live);
        Assert.Equal(at, fallback.At);
        Assert.Equal(2, fallback.Scrape.Value("kiln_active_sequences"));

        // A replica no longer READY loses its fallback.
        scraper.Retain([]);
        Assert.Empty(await scraper.CurrentAsync([route], CancellationToken.None));
    }

    [Fact]
    public async Task A_scrape_buffer_grows_to_the_body_and_refuses_one_past_its_bound()
    {
        var buffer = new ScrapeBuffer();
        var body = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        Assert.Equal(body.Length, await buffer.FillAsync(new MemoryStream(body), CancellationToken.None));
        Assert.Equal(body, buffer.Bytes[..body.Length]);
        // Reused: a shorter body after a longer one.
        Assert.Equal(3, await buffer.FillAsync(new MemoryStream([1, 2, 3]), CancellationToken.None));
        Assert.Equal([1, 2, 3], buffer.Bytes[..3]);
        await Assert.ThrowsAsync<InvalidDataException>(() => buffer.FillAsync(new MemoryStream(new byte[ScrapeBuffer.MaxBody + 1]), CancellationToken.None));
    }
}
