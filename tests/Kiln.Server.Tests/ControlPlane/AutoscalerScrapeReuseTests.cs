using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;
using Kiln.Core.Time;
using Kiln.Server.ControlPlane;
using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.Gateway;
using Kiln.Server.Signals;
using Kiln.Store;
using Kiln.Store.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kiln.Server.Tests.ControlPlane;

/// <summary>
/// The autoscaler against a store and replicas answering <c>/metrics</c> over HTTP: which passes
/// scrape a deployment's replicas and which reuse their last scrape.
/// </summary>
public sealed class AutoscalerScrapeReuseTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-autoscaler-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeClock _clock = new();
    private SqliteKilnStore _store = null!;
    private FakeMetricsReplica _replica = null!;
    private ServiceProvider _services = null!;
    private AutoscalerController _autoscaler = null!;
    private DeploymentRoute _route = null!;

    public async Task InitializeAsync()
    {
        _store = SqliteKilnStore.Open(Path.Combine(_dir, "kiln.db"));
        _replica = await FakeMetricsReplica.StartAsync();
        await _store.CreateAccountAsync(new NewAccount("acme"));
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/acme/models/m", MinReplicaCount = 1, MaxReplicaCount = 1 });
        await _store.CreateDeploymentAsync(new NewDeployment("acme", "web", spec, 1));
        await _store.UpsertReplicaAsync(new ReplicaRecord
        {
            Account = "acme",
            DeploymentId = "web",
            ReplicaId = "r1",
            Phase = ReplicaPhase.Ready,
            Host = "127.0.0.1",
            Port = _replica.Port,
            StartTime = _clock.UtcNow,
        });
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<IKilnStore>(_store);
        services.AddSingleton<IClock>(_clock);
        services.AddSingleton(new GatewayOptions());
        services.AddSingleton(new ControllerOptions());
        services.AddSingleton(Kiln.Core.Engines.EngineCatalog.Default);
        var leadership = new Leadership();
        leadership.Set(new Leadership.Term(1, CancellationToken.None));
        services.AddSingleton(leadership);
        services.AddSingleton<ReconcileSignal>();
        services.AddSingleton<WakeRequests>();
        services.AddSingleton<DeploymentEvents>();
        services.AddSingleton<ReplicaClient>();
        services.AddSingleton<ReplicaConnectionOpener>();
        services.AddSingleton<ReplicaDirectory>();
        services.AddSingleton<ReplicaScraper>();
        services.AddSingleton<AutoscalerController>();
        _services = services.BuildServiceProvider();
        var directory = _services.GetRequiredService<ReplicaDirectory>();
        await directory.RefreshAsync(CancellationToken.None);
        _route = directory.Find(new("acme", "web"))!;
        _autoscaler = _services.GetRequiredService<AutoscalerController>();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _replica.DisposeAsync();
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task PassAsync()
    {
        _clock.Advance(TimeSpan.FromSeconds(5));
        await _autoscaler.RunPassAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_quiet_deployment_is_not_scraped_again_until_its_turn()
    {
        await PassAsync();
        Assert.Equal(1, _replica.Scrapes);
        // Its only deployment has turn 0: passes 2 to 5 reuse the scrape, pass 6 takes it again.
        for (var pass = 2; pass < ScrapeReuse.RefreshEveryPasses; pass++)
        {
            await PassAsync();
        }
        Assert.Equal(1, _replica.Scrapes);
        await PassAsync();
        Assert.Equal(2, _replica.Scrapes);
    }

    [Fact]
    public async Task A_new_arrival_at_the_gateway_scrapes_again()
    {
        await PassAsync();
        _route.Counters.Arrive();
        _route.Counters.Finish(200, TimeSpan.FromMilliseconds(10));
        await PassAsync();
        Assert.Equal(2, _replica.Scrapes);
        await PassAsync();
        Assert.Equal(2, _replica.Scrapes);
    }

    [Fact]
    public async Task A_request_in_flight_scrapes_every_pass()
    {
        await PassAsync();
        _route.Counters.Arrive();
        await PassAsync();
        await PassAsync();
        Assert.Equal(3, _replica.Scrapes);
    }

    [Fact]
    public async Task A_moved_last_request_time_in_the_store_scrapes_again()
    {
        await PassAsync();
        // Another instance's gateway saw a request, stamped by a clock behind this one.
        await _store.RecordDeploymentRequestAsync("acme", "web", _clock.UtcNow.AddMinutes(-5));
        await PassAsync();
        Assert.Equal(2, _replica.Scrapes);
        await PassAsync();
        Assert.Equal(2, _replica.Scrapes);
    }

    [Fact]
    public async Task A_busy_replica_is_scraped_every_pass_and_reused_once_quiet()
    {
        _replica.Running = 1;
        await PassAsync();
        await PassAsync();
        Assert.Equal(2, _replica.Scrapes);
        _replica.Running = 0;
        await PassAsync();
        await PassAsync();
        Assert.Equal(3, _replica.Scrapes);
    }
}
