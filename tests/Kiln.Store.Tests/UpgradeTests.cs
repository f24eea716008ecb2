using Kiln.Core.Accounts;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Time;
using Kiln.Store.Sqlite;

namespace Kiln.Store.Tests;

/// <summary>
/// Opens a schema-5 database that the SQLitePCLRaw-based store wrote (Fixtures/kiln-schema5.db, a
/// row in every table) and checks that every record reads back as it was written, and that the
/// upgraded file takes new writes.
/// </summary>
public sealed class UpgradeTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kiln-store-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeClock _clock = new(T0.AddHours(1));
    private readonly SqliteKilnStore _store;

    public UpgradeTests()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "kiln.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "kiln-schema5.db"), path);
        _store = SqliteKilnStore.Open(path, _clock);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    [Fact]
    public void Schema_moves_to_the_latest_version()
    {
        Assert.Equal(SqliteKilnStore.LatestSchemaVersion, _store.SchemaVersion());
        Assert.True(SqliteKilnStore.LatestSchemaVersion > 5);
    }

    [Fact]
    public async Task Accounts_and_keys_read_back()
    {
        var accounts = await _store.ListAccountsAsync(new PageRequest(100));
        Assert.Equal(
            [
                new AccountRecord("acme", "Acme Corp", AccountTier.Enterprise, 1234.56m, At(0), At(0)),
                new AccountRecord("beta", "Beta Ltd", AccountTier.Developer, 0.5m, At(0), At(1)),
            ],
            accounts.Items);
        Assert.Equal(
            new ApiKeyRecord("acme", "ci", new string('a', 64), "CI key", At(1), At(90)),
            await _store.FindApiKeyByHashAsync(new string('a', 64)));
        Assert.Equal(
            [new ApiKeyRecord("beta", "dev", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "dev", At(1), null)],
            (await _store.ListApiKeysAsync("beta", PageRequest.First)).Items);
    }

    [Fact]
    public async Task Models_and_deployed_models_read_back()
    {
        Assert.Equal(
            [
                new ModelRecord
                {
                    Account = "acme", Id = "llama", DisplayName = "Llama 3 8B", Kind = ModelKind.HfBaseModel,
                    FilePath = "/data/models/acme/llama.gguf", Sha256 = new string('b', 64), SizeBytes = 123_456_789,
                    Architecture = "llama", ContextLength = 8192, State = ModelState.Ready, CreateTime = At(1), UpdateTime = At(1),
                },
                new ModelRecord
                {
                    Account = "acme", Id = "lora", Kind = ModelKind.HfPeftAddon, BaseModel = "accounts/acme/models/llama",
                    FilePath = "/data/models/acme/lora.gguf", Sha256 = new string('c', 64), SizeBytes = 8192,
                    State = ModelState.Ready, CreateTime = At(1), UpdateTime = At(3),
                },
            ],
            (await _store.ListModelsAsync("acme", PageRequest.First)).Items);
        Assert.Equal(
            new DeployedModelRecord
            {
                Account = "acme",
                Id = "dm1",
                ModelId = "lora",
                DeploymentId = "d1",
                State = DeployedModelState.Deployed,
                CreateTime = At(28.25),
                UpdateTime = At(29.25),
            },
            await _store.GetDeployedModelAsync("acme", "dm1"));
        Assert.Equal(["accounts/acme/deployments/d1"],
            (await _store.ListDeploymentsServingAsync(new Core.Names.ModelName("acme", "lora"))).Select(n => n.ToString()));
    }

    [Fact]
    public async Task Deployments_read_back_at_version_one()
    {
        var spec = new DeploymentSpec
        {
            BaseModel = "accounts/acme/models/llama",
            DisplayName = "prod ✓",
            MinReplicaCount = 1,
            MaxReplicaCount = 5,
            AutoscalingPolicy = new AutoscalingPolicy
            {
                ScaleUpWindow = TimeSpan.FromSeconds(30),
                ScaleDownWindow = TimeSpan.FromMinutes(10),
                ScaleToZeroWindow = TimeSpan.FromHours(1),
                LoadTargets = new Dictionary<string, double> { ["default"] = 0.75, ["requests_per_second"] = 12.25 },
            },
            UnusedAutoDeleteDuration = TimeSpan.FromDays(2),
            AcceleratorType = AcceleratorType.NvidiaH100_80GB,
            AcceleratorCount = 4,
            EnableAddons = true,
            Precision = Precision.Fp16,
        };
        Assert.Equal(
            new DeploymentRecord
            {
                Account = "acme",
                Id = "d1",
                Spec = spec,
                State = DeploymentState.Ready,
                Status = new DeploymentStatus(StatusCode.Ok, "1 of 3 ready"),
                DesiredReplicaCount = 3,
                Generation = 3,
                RestartGeneration = 3,
                ObservedGeneration = 3,
                Version = 1,
                CreatedBy = "ci",
                CreateTime = At(3),
                UpdateTime = At(10),
                LastRequestTime = At(75),
            },
            await _store.GetDeploymentAsync("acme", "d1"));

        // Rows from before the inventory decided the default were created on NVIDIA_A100_80GB, and keep it.
        var small = DeploymentSpecs.Create(new DeploymentSpecPatch { BaseModel = "accounts/acme/models/llama", MinReplicaCount = 0, MaxReplicaCount = 1 },
            AcceleratorType.NvidiaA100_80GB);
        Assert.Equal(
            new DeploymentRecord
            {
                Account = "acme",
                Id = "d2",
                Spec = small,
                State = DeploymentState.Deleting,
                Status = new DeploymentStatus(StatusCode.Ok, "deletion requested"),
                DesiredReplicaCount = 0,
                Generation = 1,
                RestartGeneration = 1,
                ObservedGeneration = 0,
                Version = 1,
                CreateTime = At(10),
                UpdateTime = At(15),
                DeleteTime = At(15),
            },
            await _store.GetDeploymentAsync("acme", "d2"));
        Assert.Equal(
            new DeploymentRecord
            {
                Account = "beta",
                Id = "d3",
                Spec = small with { BaseModel = "accounts/beta/models/other" },
                State = DeploymentState.Failed,
                Status = new DeploymentStatus(StatusCode.Unavailable, "replica crashed"),
                DesiredReplicaCount = 1,
                Generation = 1,
                RestartGeneration = 1,
                ObservedGeneration = 1,
                Version = 1,
                CreateTime = At(15),
                UpdateTime = At(21),
            },
            await _store.GetDeploymentAsync("beta", "d3"));
        Assert.Equal(["acme/d1", "acme/d2", "beta/d3"], (await _store.ListLiveDeploymentsAsync()).Select(d => $"{d.Account}/{d.Id}"));
    }

    [Fact]
    public async Task Replicas_events_and_usage_read_back()
    {
        Assert.Equal(
            [
                new ReplicaRecord
                {
                    Account = "acme", DeploymentId = "d1", ReplicaId = "r1", Phase = ReplicaPhase.Ready, Generation = 3, RuntimeHandle = "pid:4242",
                    Port = 18001, Host = "127.0.0.1", StartTime = At(10), ReadyTime = At(12), UpdateTime = At(21),
                },
                new ReplicaRecord
                {
                    Account = "acme", DeploymentId = "d1", ReplicaId = "r2", Phase = ReplicaPhase.Pending, Generation = 3,
                    StartTime = At(11), FailureCount = 2, LastError = "out of memory", UpdateTime = At(21),
                },
                new ReplicaRecord
                {
                    Account = "beta", DeploymentId = "d3", ReplicaId = "r9", Phase = ReplicaPhase.Failed, Generation = 1, RuntimeHandle = "pid:77",
                    Port = 18002, Host = "localhost", StartTime = At(5), ReadyTime = At(6), FailureCount = 1, LastError = "exit 137",
                    UpdateTime = At(28),
                },
            ],
            await _store.ListAllReplicasAsync());
        Assert.Equal(
            [
                new DeploymentEvent(1, "acme", "d1", At(28), "Created", "deployment created"),
                new DeploymentEvent(2, "acme", "d1", At(28.25), "ReplicaReady", "r1 ready on 127.0.0.1:18001"),
            ],
            await _store.ListRecentEventsAsync("acme", "d1"));
        Assert.Equal([new DeploymentEvent(3, "beta", "d3", At(28.25), "ReplicaFailed", "r9 exited with 137")],
            await _store.ListRecentEventsAsync("beta", "d3"));
        Assert.Equal(
            [
                new RequestUsage("acme", "ci", "d1", "accounts/acme/models/llama", At(0), 5, 400, 55),
                new RequestUsage("acme", "ci", "d1", "accounts/acme/models/lora", At(60), 1, 20, 5),
            ],
            await _store.ListRequestUsageAsync("acme", new UsageQuery()));
        Assert.Equal([new ReplicaUsageRecord("acme", "d1", "r1", AcceleratorType.NvidiaH100_80GB, 4, At(12), null)],
            await _store.ListReplicaUsageAsync("acme", new UsageQuery()));
        Assert.Equal([new ReplicaUsageRecord("beta", "d3", "r9", AcceleratorType.NvidiaA100_80GB, 1, At(6), At(28))],
            await _store.ListReplicaUsageAsync("beta", new UsageQuery()));
    }

    [Fact]
    public async Task Upgraded_file_takes_new_writes()
    {
        var d1 = (await _store.GetDeploymentAsync("acme", "d1"))!;
        var scaled = await _store.SetDesiredReplicaCountAsync("acme", "d1", 4, d1.Version);
        Assert.Equal((4, 2L), (scaled.DesiredReplicaCount, scaled.Version));
        var renamed = await _store.UpdateDeploymentSpecAsync("acme", "d1", scaled.Spec with { DisplayName = "renamed" }, scaled.Generation);
        Assert.Equal((4L, 3L, 4), (renamed.Generation, renamed.Version, renamed.DesiredReplicaCount));

        await _store.CreateAccountAsync(new NewAccount("gamma"));
        await _store.CreateDeploymentAsync(new NewDeployment("gamma", "d4", TempStore.Spec("accounts/gamma/models/m"), 1));
        var ev = await _store.AppendEventAsync("acme", "d1", "Updated", "after the upgrade");
        Assert.Equal(4, ev.Sequence);
        await _store.RecordRequestUsageAsync(
            [new RequestUsage("acme", "ci", "d1", "accounts/acme/models/llama", At(30), 1, 7, 3)], [new LastRequest("acme", "d1", _clock.UtcNow)]);
        await _store.DeleteReplicaAsync("acme", "d1", "r1");
        Assert.True(await _store.PurgeDeploymentAsync("beta", "d3"));

        var path = _store.Path;
        _store.Dispose();
        using var reopened = SqliteKilnStore.Open(path, _clock);
        var d = (await reopened.GetDeploymentAsync("acme", "d1"))!;
        Assert.Equal(("renamed", 4, 3L, _clock.UtcNow), (d.Spec.DisplayName, d.DesiredReplicaCount, d.Version, d.LastRequestTime));
        Assert.NotNull(await reopened.GetDeploymentAsync("gamma", "d4"));
        Assert.Null(await reopened.GetDeploymentAsync("beta", "d3"));
        Assert.Equal(6, (await reopened.ListRequestUsageAsync("acme", new UsageQuery())).Single(u => u.Model.EndsWith("llama", StringComparison.Ordinal)).Requests);
        Assert.Equal(_clock.UtcNow, (await reopened.ListReplicaUsageAsync("acme", new UsageQuery())).Single().StopTime);
        Assert.Equal("after the upgrade", (await reopened.ListRecentEventsAsync("acme", "d1")).Last().Message);
    }
}
