using System.Diagnostics;
using System.Globalization;
using Kiln.Core.Deployments;
using Kiln.Core.Models;
using Kiln.Core.Time;
using Kiln.Runtime;
using Kiln.Server.Auth;
using Kiln.Server.ControlPlane;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.ControlPlane.Distribution;
using Kiln.Server.Gateway;
using Kiln.Server.Signals;
using Kiln.Store;
using Kiln.Store.Postgres;
using Kiln.Store.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kiln.Server.Benchmarks;

/// <summary>What <c>kiln bench control-plane</c> runs.</summary>
public sealed record ControlPlaneBenchOptions
{
    /// <summary>Deployment counts, one run each.</summary>
    public required IReadOnlyList<int> Deployments { get; init; }

    /// <summary>Replicas per deployment.</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>Timed steady-state passes per figure (the median is printed).</summary>
    public int Passes { get; init; } = 5;

    /// <summary>A PostgreSQL server (connection string or URL) to run on, in a scratch database per run; SQLite when null.</summary>
    public string? Postgres { get; init; }
}

/// <summary>
/// Times the control plane's loops at scale against a simulated runtime: for N deployments of R
/// replicas each, the reconciler's pass that starts them all, the passes that see them ready, a
/// steady-state reconciler pass, the autoscaler's pass with every deployment quiet (reusing quiet
/// replicas' scrapes, refreshing those whose turn it is) and with every deployment active (a new
/// arrival at each before every pass, so every replica is scraped over HTTP), and routing-table
/// refreshes with nothing changed and after a change.
/// </summary>
public static class ControlPlaneBench
{
    private const string Account = "bench";

    /// <summary>Runs every size and prints a table; returns the exit code.</summary>
    public static async Task<int> RunAsync(ControlPlaneBenchOptions options, TextWriter output)
    {
        await using var replicas = await SimulatedReplicas.StartAsync();
        output.WriteLine($"control plane, {options.Replicas} replicas per deployment, store: {(options.Postgres is null ? "SQLite" : "PostgreSQL")}, simulated runtime (probes and scrapes over loopback HTTP to another process)");
        output.WriteLine($"{"deployments",11} {"seed s",8} {"start pass",11} {"ready pass",11} {"reconcile",11} {"cpu",10} {"quiet as.",11} {"cpu",10} {"alloc",9} {"active as.",11} {"cpu",10} {"alloc",9} {"routing",11} {"cpu",10} {"changed",11} {"cpu",10} {"per dep.",9}");
        foreach (var n in options.Deployments)
        {
            var row = await RunOneAsync(n, options, replicas.Port);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{n,11} {row.Seed.TotalSeconds,8:F2} {Ms(row.StartPass),11} {Ms(row.ReadyPass),11} {Ms(row.Reconcile.Wall),11} {Ms(row.Reconcile.Cpu),10} {Ms(row.QuietAutoscale.Wall),11} {Ms(row.QuietAutoscale.Cpu),10} {Mb(row.QuietAutoscale.Allocated),9} {Ms(row.ActiveAutoscale.Wall),11} {Ms(row.ActiveAutoscale.Cpu),10} {Mb(row.ActiveAutoscale.Allocated),9} {Ms(row.Routing.Wall),11} {Ms(row.Routing.Cpu),10} {Ms(row.RoutingChanged.Wall),11} {Ms(row.RoutingChanged.Cpu),10} {row.Reconcile.Wall.TotalMicroseconds / n,7:F0}us"));
        }
        output.WriteLine("start pass: the reconciler's pass that starts every replica; ready pass: the one that probes them and records them READY;");
        output.WriteLine("reconcile / quiet as. / active as. / routing: medians of steady-state reconciler passes, autoscaler passes with every deployment quiet");
        output.WriteLine("(a sixth refreshed per pass) and with every deployment active (all replicas scraped), and routing refreshes (wall clock);");
        output.WriteLine("routing: a refresh with nothing routable changed (it reads the store's routing generation only); changed: one after a replica moved (it reads every table);");
        output.WriteLine("cpu: the median CPU time this process (the control plane, every thread, GC included) spent in each; per dep.: reconcile / deployments.");
        output.WriteLine("alloc: the median bytes the autoscaler's pass allocated (every thread of this process; unlike time, the machine's load does not move it).");
        return 0;
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:F2} ms");

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F1} MB");

    private sealed record Row(TimeSpan Seed, TimeSpan StartPass, TimeSpan ReadyPass, Timing Reconcile, Timing QuietAutoscale, Timing ActiveAutoscale, Timing Routing, Timing RoutingChanged);

    // Wall clock, and CPU time: on a machine shared with other work the first swings with the load, the
    // second much less; bytes allocated not at all.
    private readonly record struct Timing(TimeSpan Wall, TimeSpan Cpu, long Allocated);

    private static async Task<Row> RunOneAsync(int deployments, ControlPlaneBenchOptions options, int port)
    {
        var root = Directory.CreateTempSubdirectory("kiln-cpbench-");
        try
        {
            using var scratch = options.Postgres is null ? null : new ScratchDatabase(options.Postgres);
            using IKilnStore store = scratch is null ? SqliteKilnStore.Open(Path.Combine(root.FullName, "kiln.db")) : PostgresKilnStore.Open(scratch.ConnectionString);
            var modelFile = Path.Combine(root.FullName, "model.gguf");
            await File.WriteAllBytesAsync(modelFile, new byte[16]);

            var seed = Stopwatch.StartNew();
            await SeedAsync(store, deployments, options.Replicas, modelFile);
            seed.Stop();

            // The controllers' writes carry the leader's fence, as on a server (one more read per write).
            var lease = await store.TryAcquireOrRenewLeaseAsync(Leadership.LeaseName, "bench", TimeSpan.FromDays(1));
            LeaseFence.Enter(new LeaseFence(Leadership.LeaseName, lease.Epoch));
            var slots = deployments * options.Replicas;
            using var runtime = new SimulatedRuntime(port, slots);
            await using var services = Compose(store, runtime, root.FullName, lease.Epoch);
            var reconciler = services.GetRequiredService<Reconciler>();
            var autoscaler = services.GetRequiredService<AutoscalerController>();
            var directory = services.GetRequiredService<ReplicaDirectory>();

            var start = (await TimeAsync(() => reconciler.RunPassAsync(CancellationToken.None))).Wall;
            if (runtime.List().Count != slots)
            {
                throw new InvalidOperationException($"the start pass started {runtime.List().Count} of {slots} replicas");
            }
            var ready = (await TimeAsync(() => reconciler.RunPassAsync(CancellationToken.None))).Wall;
            // The next pass sees every replica READY and writes each deployment's status once.
            await reconciler.RunPassAsync(CancellationToken.None);
            await directory.RefreshAsync(CancellationToken.None);
            var served = directory.Routes.Sum(r => r.Endpoints.Count);
            if (served != slots)
            {
                throw new InvalidOperationException($"the routing table holds {served} of {slots} replicas");
            }
            // The autoscaler's first pass records a hold event per deployment; time the ones after it.
            await autoscaler.RunPassAsync(CancellationToken.None);
            var reconcile = await MedianAsync(options.Passes, () => reconciler.RunPassAsync(CancellationToken.None));
            // The simulated replicas report nothing running, so every deployment is quiet: a pass
            // reuses their scrapes but for the sixth whose turn it is to be refreshed.
            var quiet = await MedianAsync(options.Passes, () => autoscaler.RunPassAsync(CancellationToken.None));
            // A request counted in and out at every route, as the gateway counts one, before each
            // pass: every deployment is active, so every replica is scraped.
            var active = await MedianAsync(options.Passes, () => autoscaler.RunPassAsync(CancellationToken.None), before: () => ArriveEverywhere(directory));
            var routing = await MedianAsync(options.Passes, () => directory.RefreshAsync(CancellationToken.None));
            // After a change the gateway routes by (one replica's address, untimed) the refresh reads everything.
            var moved = runtime.List()[0].Replica;
            var changed = await MedianAsync(options.Passes, () => directory.RefreshAsync(CancellationToken.None),
                () => MoveReplicaAsync(store, moved.Account, moved.DeploymentId, moved.ReplicaId));
            // The moved replica is routed to once the gateway's connections to its new address are open.
            for (var waited = Stopwatch.StartNew(); directory.Routes.Sum(r => r.Endpoints.Count) != slots && waited.Elapsed < TimeSpan.FromSeconds(10);)
            {
                await directory.WaitForPromptAsync(CancellationToken.None);
                await directory.RefreshAsync(CancellationToken.None);
            }
            if (directory.Routes.Sum(r => r.Endpoints.Count) != slots)
            {
                throw new InvalidOperationException("a routing refresh after a change lost replicas");
            }
            return new Row(seed.Elapsed, start, ready, reconcile, quiet, active, routing, changed);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static async Task SeedAsync(IKilnStore store, int deployments, int replicas, string modelFile)
    {
        await store.CreateAccountAsync(new NewAccount(Account));
        await store.CreateModelAsync(new NewModel(Account, "m", ModelKind.HfBaseModel, modelFile, 16));
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch
        {
            BaseModel = $"accounts/{Account}/models/m",
            MinReplicaCount = replicas,
            MaxReplicaCount = replicas,
            AcceleratorType = AcceleratorType.Cpu,
            AcceleratorCount = 1,
        });
        for (var i = 0; i < deployments; i++)
        {
            await store.CreateDeploymentAsync(new NewDeployment(Account, $"d{i:D6}", spec, replicas));
        }
    }

    private static ServiceProvider Compose(IKilnStore store, IReplicaRuntime runtime, string dataDir, long epoch)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton(store);
        services.AddSingleton(runtime);
        services.AddSingleton<IClock>(SystemClock.Instance);
        var dir = new DataDirectory(dataDir);
        services.AddSingleton(dir);
        // Replicas load the server's own file (the local distribution): nothing is downloaded.
        services.AddSingleton(new ModelDistributionOptions());
        services.AddSingleton(ReplicaTokens.FromFile(dir.ReplicaTokenSecretFile));
        services.AddSingleton(ControlPlaneAddress.From(null, "127.0.0.1", 1));
        services.AddSingleton<ServedFiles>();
        services.AddSingleton<ModelDelivery>();
        // Steady passes time the pass itself: READY replicas' periodic probes (due every 5 s, so on a
        // fifth of the 1 s passes' worth) would land in some timed passes and not others, depending
        // on how long the untimed work before them took. Starting replicas are probed every pass.
        services.AddSingleton(new ReconcilerOptions { HealthCheckInterval = TimeSpan.FromHours(1) });
        services.AddSingleton(new AddonOptions());
        services.AddSingleton(Kiln.Core.Engines.EngineCatalog.Default);
        services.AddSingleton(new GatewayOptions());
        services.AddSingleton(new ControllerOptions());
        // One instance leading alone, as a single server does once it holds the free lease.
        var leadership = new Leadership();
        leadership.Set(new Leadership.Term(epoch, CancellationToken.None));
        services.AddSingleton(leadership);
        services.AddSingleton<ReconcileSignal>();
        services.AddSingleton<WakeRequests>();
        services.AddSingleton<DeploymentEvents>();
        services.AddSingleton<ReplicaStopper>();
        services.AddSingleton<ReplicaAdoption>();
        services.AddSingleton<ReplicaAdapterClient>();
        services.AddSingleton<AddonSync>();
        services.AddSingleton<DeploymentPass>();
        services.AddSingleton<Reconciler>();
        services.AddSingleton<ReplicaClient>();
        services.AddSingleton<ReplicaConnectionOpener>();
        services.AddSingleton<ReplicaDirectory>();
        services.AddSingleton<ReplicaScraper>();
        services.AddSingleton<AutoscalerController>();
        return services.BuildServiceProvider();
    }

    private static async Task<Timing> TimeAsync(Func<Task> run)
    {
        var cpu = Environment.CpuUsage.TotalTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        await run();
        return new Timing(sw.Elapsed, Environment.CpuUsage.TotalTime - cpu, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    // Counts a request in and out at every route, as the gateway counts one.
    private static Task ArriveEverywhere(ReplicaDirectory directory)
    {
        foreach (var route in directory.Routes)
        {
            route.Counters.Arrive();
            route.Counters.Finish(200, TimeSpan.FromMilliseconds(1));
        }
        return Task.CompletedTask;
    }

    // Moves a READY replica to another port and back in turn: a change every routing table must see.
    private static async Task MoveReplicaAsync(IKilnStore store, string account, string deployment, string replica)
    {
        var r = (await store.ListReplicasAsync(account, deployment, CancellationToken.None)).Single(x => x.ReplicaId == replica);
        await store.UpsertReplicaAsync(r with { Port = r.Port + (r.Port % 2 == 0 ? 1 : -1) }, CancellationToken.None);
    }

    private static async Task<Timing> MedianAsync(int passes, Func<Task> run, Func<Task>? before = null)
    {
        var times = new List<Timing>();
        for (var i = 0; i < passes; i++)
        {
            if (before is not null)
            {
                await before();
            }
            times.Add(await TimeAsync(run));
        }
        var wall = times.Select(t => t.Wall).Order().ToList();
        var cpu = times.Select(t => t.Cpu).Order().ToList();
        var allocated = times.Select(t => t.Allocated).Order().ToList();
        return new Timing(wall[wall.Count / 2], cpu[cpu.Count / 2], allocated[allocated.Count / 2]);
    }
}
