using Kiln.Core.Names;
using Kiln.Server.Signals;
using Kiln.Store;
using Kiln.Store.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kiln.Server.Tests.Signals;

public sealed class WakeRequestsTests : IDisposable
{
    private static readonly DeploymentName Web = new("acme", "web");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-wake-tests", Guid.NewGuid().ToString("N"));
    private readonly SqliteKilnStore _store;

    public WakeRequestsTests()
    {
        _store = SqliteKilnStore.Open(Path.Combine(_dir, "kiln.db"));
        _store.CreateAccountAsync(new NewAccount("acme")).GetAwaiter().GetResult();
        var spec = Kiln.Core.Deployments.DeploymentSpecs.Create(new Kiln.Core.Deployments.DeploymentSpecPatch { BaseModel = "accounts/acme/models/m", MinReplicaCount = 0 });
        _store.CreateDeploymentAsync(new NewDeployment("acme", "web", spec, 0)).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static Leadership Leading()
    {
        var leadership = new Leadership();
        leadership.Set(new Leadership.Term(1, CancellationToken.None));
        return leadership;
    }

    [Fact]
    public async Task On_the_leader_a_wake_stays_in_memory_for_the_autoscaler()
    {
        var wakes = new WakeRequests(_store, Leading(), NullLogger<WakeRequests>.Instance);
        wakes.Request(Web);
        wakes.Request(Web);
        Assert.True(await wakes.WaitAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Equal([Web], wakes.Take());
        Assert.Empty(await _store.TakeWakeRequestsAsync());
    }

    [Fact]
    public async Task Elsewhere_a_wake_goes_through_the_store_at_most_once_per_interval()
    {
        var clock = new ManualClock();
        var wakes = new WakeRequests(_store, new Leadership(), NullLogger<WakeRequests>.Instance, clock);
        for (var i = 0; i < 20; i++)
        {
            wakes.Request(Web); // a held request asks every 100 ms
        }
        var taken = await TakeSoonAsync();
        Assert.Equal(("acme", "web"), (taken.Account, taken.DeploymentId));
        Assert.Empty(wakes.Take());

        // Asked again within the interval: not written again; after it: written again.
        clock.Advance(WakeRequests.ForwardInterval - TimeSpan.FromMilliseconds(1));
        wakes.Request(Web);
        await Task.Delay(200);
        Assert.Empty(await _store.TakeWakeRequestsAsync());
        clock.Advance(TimeSpan.FromMilliseconds(1));
        wakes.Request(Web);
        await TakeSoonAsync();
    }

    /// <summary>A clock that moves only when told, so the test does not race the interval.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public async Task A_wake_for_a_deployment_the_store_does_not_know_fails_quietly()
    {
        var wakes = new WakeRequests(_store, new Leadership(), NullLogger<WakeRequests>.Instance);
        wakes.Request(new DeploymentName("acme", "gone"));
        await Task.Delay(200);
        Assert.Empty(await _store.TakeWakeRequestsAsync());
    }

    private async Task<WakeRequest> TakeSoonAsync()
    {
        var until = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < until)
        {
            if (await _store.TakeWakeRequestsAsync() is [var one])
            {
                return one;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException("no wake request reached the store");
    }
}

public sealed class LeadershipTests
{
    [Fact]
    public void An_instance_leads_only_during_a_term_that_has_not_ended()
    {
        var leadership = new Leadership();
        Assert.False(leadership.IsLeader);
        using var term = new CancellationTokenSource();
        leadership.Set(new Leadership.Term(3, term.Token));
        Assert.Equal(3, leadership.Current?.Epoch);
        term.Cancel();
        Assert.False(leadership.IsLeader);
    }

    [Fact]
    public void Instance_ids_name_the_host_and_process_and_differ_per_instance()
    {
        var a = new Leadership().InstanceId;
        Assert.StartsWith($"{Environment.MachineName}-{Environment.ProcessId}-", a);
        Assert.NotEqual(a, new Leadership().InstanceId);
        var host = Environment.MachineName;
        Assert.False(InstanceIds.IsDeadProcessOnThisHost(a, self: a));
        // An earlier instance with this process's ID has gone; a running process is alive; another
        // host's or a malformed ID is never judged dead.
        Assert.True(InstanceIds.IsDeadProcessOnThisHost($"{host}-{Environment.ProcessId}-00000000", self: a));
        Assert.False(InstanceIds.IsDeadProcessOnThisHost($"{host}-1-abcd", self: a));
        Assert.True(InstanceIds.IsDeadProcessOnThisHost($"{host}-{int.MaxValue - 1}-abcd", self: a));
        Assert.False(InstanceIds.IsDeadProcessOnThisHost($"elsewhere-{int.MaxValue - 1}-abcd", self: a));
        Assert.False(InstanceIds.IsDeadProcessOnThisHost("not an id", self: a));
    }
}
