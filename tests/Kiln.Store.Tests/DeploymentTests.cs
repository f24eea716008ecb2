using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class DeploymentTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    [StoreFact]
    public async Task Create_starts_creating_at_generation_one()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var spec = DeploymentSpecs.Create(new DeploymentSpecPatch
        {
            BaseModel = "accounts/acme/models/llama",
            DisplayName = "prod",
            MinReplicaCount = 1,
            MaxReplicaCount = 3,
            AutoscalingPolicy = new AutoscalingPolicyPatch
            {
                ScaleUpWindow = TimeSpan.FromSeconds(1.5),
                LoadTargets = new Dictionary<string, double> { ["default"] = 0.6, ["requests_per_second"] = 12.25 },
            },
            UnusedAutoDeleteDuration = TimeSpan.Zero,
            AcceleratorType = AcceleratorType.Cpu,
            AcceleratorCount = 4,
            EnableAddons = true,
            Precision = Precision.Fp16,
        });
        var d = await _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "d1", spec, 1, "key-ci"));
        Assert.Equal(spec, d.Spec);
        Assert.Equal((DeploymentState.Creating, 1L, 0L, 1, "key-ci"), (d.State, d.Generation, d.ObservedGeneration, d.DesiredReplicaCount, d.CreatedBy));
        Assert.Equal(DeploymentStatus.Ok, d.Status);
        Assert.Equal((_t.Clock.UtcNow, _t.Clock.UtcNow), (d.CreateTime, d.UpdateTime));
        Assert.Null(d.DeleteTime);
        Assert.Null(d.LastRequestTime);
        Assert.Equal("accounts/acme/deployments/d1", d.Name.ToString());
        Assert.Equal(d, await _t.Store.GetDeploymentAsync("acme", "d1"));
    }

    [StoreFact]
    public async Task The_shape_and_its_engine_settings_are_kept_and_updated()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var spec = TempStore.Spec() with
        {
            DeploymentShape = "accounts/kiln/deploymentShapes/cpu-minimal/versions/0123456789ab",
            MaxBatchSize = 4,
            MaxContextLength = 2048,
            PrefixCacheMb = 0,
        };
        var d = await _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "d1", spec, 0));
        Assert.Equal((spec.DeploymentShape, 4, 2048, 0), (d.Spec.DeploymentShape, d.Spec.MaxBatchSize, d.Spec.MaxContextLength, d.Spec.PrefixCacheMb));
        var cleared = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DeploymentShape = null, MaxBatchSize = null, MaxContextLength = null, PrefixCacheMb = 512 }, d.Generation);
        var read = (await _t.Store.GetDeploymentAsync("acme", "d1"))!;
        Assert.Equal(((string?)null, (int?)null, (int?)null, (int?)512), (read.Spec.DeploymentShape, read.Spec.MaxBatchSize, read.Spec.MaxContextLength, read.Spec.PrefixCacheMb));
        Assert.Equal(cleared.Generation, read.Generation);
    }

    [StoreFact]
    public async Task Duplicate_id_is_already_exists()
    {
        await _t.SeedDeploymentAsync();
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.SeedDeploymentAsync());
        Assert.Equal(StatusCode.AlreadyExists, e.Code);
        Assert.Equal(409, e.HttpStatus);
        Assert.Equal("deployment accounts/acme/deployments/d1 already exists", e.Message);
    }

    [StoreFact]
    public async Task Create_validates()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var bad = TempStore.Spec() with { AcceleratorCount = 3 };
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "d", bad, 0)))).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "d", TempStore.Spec(), 2)))).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "D!", TempStore.Spec(), 0)))).Code);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateDeploymentAsync(new NewDeployment("ghost", "d", TempStore.Spec(), 0)))).Code);
    }

    [StoreFact]
    public async Task Spec_update_bumps_generation_and_clamps_desired()
    {
        var d = await _t.SeedDeploymentAsync(desired: 3, max: 3);
        _t.Clock.Advance(TimeSpan.FromSeconds(10));
        var spec = DeploymentSpecs.Update(d.Spec, new DeploymentSpecPatch { MaxReplicaCount = 2 });
        var updated = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", spec, d.Generation);
        Assert.Equal(2, updated.Generation);
        Assert.Equal(2, updated.Spec.MaxReplicaCount);
        Assert.Equal(2, updated.DesiredReplicaCount);
        Assert.Equal(_t.Clock.UtcNow, updated.UpdateTime);
        Assert.Equal(d.CreateTime, updated.CreateTime);
    }

    [StoreFact]
    public async Task Only_changes_that_need_new_replicas_move_the_restart_generation()
    {
        var d = await _t.SeedDeploymentAsync(max: 3);
        Assert.Equal(1, d.RestartGeneration);
        var scaled = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { MaxReplicaCount = 2 }, d.Generation);
        Assert.Equal((2L, 1L), (scaled.Generation, scaled.RestartGeneration));
        var moved = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", scaled.Spec with { AcceleratorType = AcceleratorType.NvidiaH100_80GB }, scaled.Generation);
        Assert.Equal((3L, 3L), (moved.Generation, moved.RestartGeneration));
        var renamed = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", moved.Spec with { DisplayName = "x" }, moved.Generation);
        Assert.Equal((4L, 3L), (renamed.Generation, renamed.RestartGeneration));
        var addons = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", renamed.Spec with { EnableAddons = true }, renamed.Generation);
        Assert.Equal((5L, 5L), (addons.Generation, addons.RestartGeneration));
        Assert.Equal(addons, await _t.Store.GetDeploymentAsync("acme", "d1"));
    }

    [StoreFact]
    public async Task Unchanged_spec_does_not_bump_generation()
    {
        var d = await _t.SeedDeploymentAsync();
        var same = await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { }, d.Generation);
        Assert.Equal(1, same.Generation);
    }

    [StoreFact]
    public async Task Stale_generation_is_a_conflict()
    {
        var d = await _t.SeedDeploymentAsync(max: 3);
        await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DisplayName = "first" }, d.Generation);
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DisplayName = "second" }, d.Generation));
        Assert.Equal(StatusCode.Aborted, e.Code);
        Assert.Equal(409, e.HttpStatus);
        Assert.Contains("generation is 2, expected 1", e.Message);
        Assert.Equal("first", (await _t.Store.GetDeploymentAsync("acme", "d1"))!.Spec.DisplayName);
    }

    [StoreFact]
    public async Task Concurrent_spec_updates_exactly_one_wins()
    {
        var d = await _t.SeedDeploymentAsync(max: 10);
        var attempts = Enumerable.Range(1, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DisplayName = $"v{i}" }, d.Generation);
                return true;
            }
            catch (KilnError e) when (e.Code == StatusCode.Aborted)
            {
                return false;
            }
        })).ToList();
        var results = await Task.WhenAll(attempts);
        Assert.Equal(1, results.Count(r => r));
        Assert.Equal(2, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.Generation);
    }

    [StoreFact]
    public async Task Status_update_and_observed_generation()
    {
        var d = await _t.SeedDeploymentAsync();
        _t.Clock.Advance(TimeSpan.FromSeconds(5));
        var ready = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Ready, new DeploymentStatus(StatusCode.Ok, "1 of 1 ready"), 1));
        Assert.Equal((DeploymentState.Ready, 1L, "1 of 1 ready"), (ready.State, ready.ObservedGeneration, ready.Status.Message));
        Assert.Equal(_t.Clock.UtcNow, ready.UpdateTime);
        Assert.Equal(1, ready.Generation);

        _t.Clock.Advance(TimeSpan.FromSeconds(5));
        var again = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Ready, new DeploymentStatus(StatusCode.Ok, "still"), 0));
        Assert.Equal(1, again.ObservedGeneration);
        Assert.Equal(ready.UpdateTime, again.UpdateTime);

        var capped = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Failed, new DeploymentStatus(StatusCode.Unavailable, "crash"), 99));
        Assert.Equal(1, capped.ObservedGeneration);
        Assert.Equal(new DeploymentStatus(StatusCode.Unavailable, "crash"), capped.Status);
        Assert.Null(capped.DeleteTime);

        var gone = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Deleted, DeploymentStatus.Ok, 1));
        Assert.Equal(_t.Clock.UtcNow, gone.DeleteTime);
    }

    [StoreFact]
    public async Task Desired_replicas_are_set_within_bounds()
    {
        await _t.SeedDeploymentAsync(desired: 1, max: 4);
        var d = await _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 4);
        Assert.Equal(4, d.DesiredReplicaCount);
        Assert.Equal(1, d.Generation);
        Assert.Equal(4, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.DesiredReplicaCount);
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.SetDesiredReplicaCountAsync("acme", "d1", 5));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
    }

    [StoreFact]
    public async Task Last_request_time_moves_forward_only()
    {
        await _t.SeedDeploymentAsync();
        var t = _t.Clock.UtcNow.AddMinutes(10);
        await _t.Store.RecordDeploymentRequestAsync("acme", "d1", t);
        await _t.Store.RecordDeploymentRequestAsync("acme", "d1", t.AddMinutes(-1));
        Assert.Equal(t, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.LastRequestTime);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.RecordDeploymentRequestAsync("acme", "zz", t))).Code);
    }

    [StoreFact]
    public async Task Deletion_flow()
    {
        var d = await _t.SeedDeploymentAsync();
        _t.Clock.Advance(TimeSpan.FromMinutes(1));
        var why = new DeletionReason(StatusCode.ResourceExhausted, "auto-deleted: over the limit");
        var deleting = await _t.Store.RequestDeploymentDeletionAsync("acme", "d1", why);
        // A request, in the desired state: the state and status stay the reconciler's to write.
        Assert.Equal((DeploymentState.Creating, d.Status), (deleting.State, deleting.Status));
        Assert.Equal((_t.Clock.UtcNow, why), (deleting.DeleteTime, deleting.DeletionReason));
        Assert.Equal(deleting, await _t.Reopen().GetDeploymentAsync("acme", "d1"));

        _t.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(deleting, await _t.Store.RequestDeploymentDeletionAsync("acme", "d1"));
        Assert.Equal(deleting, await _t.Store.RequestDeploymentDeletionAsync("acme", "d1", new DeletionReason(StatusCode.Ok, "another")));

        var spec = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateDeploymentSpecAsync("acme", "d1", d.Spec with { DisplayName = "x" }, d.Generation));
        Assert.Equal(StatusCode.FailedPrecondition, spec.Code);
        var stale = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Ready, DeploymentStatus.Ok, 1)));
        Assert.Equal(StatusCode.Aborted, stale.Code);

        var deleted = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1", new DeploymentStatusUpdate(DeploymentState.Deleted, DeploymentStatus.Ok, 1));
        Assert.Equal(DeploymentState.Deleted, deleted.State);
        Assert.Empty((await _t.Store.ListDeploymentsAsync("acme", PageRequest.First)).Items);
        Assert.Single((await _t.Store.ListDeploymentsAsync("acme", PageRequest.First, showDeleted: true)).Items);
        Assert.Empty(await _t.Store.ListLiveDeploymentsAsync());

        var revive = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Deleting, DeploymentStatus.Ok, 1)));
        Assert.Equal(StatusCode.FailedPrecondition, revive.Code);

        // The ID stays taken until purged.
        Assert.Equal(StatusCode.AlreadyExists, (await Assert.ThrowsAsync<KilnError>(() => _t.SeedDeploymentAsync())).Code);
        Assert.True(await _t.Store.PurgeDeploymentAsync("acme", "d1"));
        Assert.False(await _t.Store.PurgeDeploymentAsync("acme", "d1"));
        Assert.Null(await _t.Store.GetDeploymentAsync("acme", "d1"));
        await _t.SeedDeploymentAsync();
    }

    [StoreFact]
    public async Task Undelete_brings_a_deleted_deployment_back_with_its_spec()
    {
        var d = await _t.SeedDeploymentAsync();
        var live = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UndeleteDeploymentAsync("acme", "d1", 1));
        Assert.Equal((StatusCode.FailedPrecondition, "deployment accounts/acme/deployments/d1 is CREATING, not DELETED: only a deleted deployment can be undeleted"),
            (live.Code, live.Message));

        await _t.Store.RequestDeploymentDeletionAsync("acme", "d1", new DeletionReason(StatusCode.Ok, "auto-deleted: unused"));
        var deleting = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UndeleteDeploymentAsync("acme", "d1", 1));
        Assert.Contains("is DELETING, not DELETED", deleting.Message);
        Assert.Contains("wait until it is DELETED", deleting.Message);
        var deleted = await _t.Store.UpdateDeploymentStatusAsync("acme", "d1",
            new DeploymentStatusUpdate(DeploymentState.Deleted, new DeploymentStatus(StatusCode.Ok, "gone"), 1));

        _t.Clock.Advance(TimeSpan.FromMinutes(5));
        var back = await _t.Store.UndeleteDeploymentAsync("acme", "d1", 1);
        Assert.Equal(d.Spec, back.Spec);
        Assert.Equal((DeploymentState.Creating, DeploymentStatus.Ok, 1), (back.State, back.Status, back.DesiredReplicaCount));
        Assert.Equal((deleted.Generation + 1, deleted.Generation + 1), (back.Generation, back.RestartGeneration));
        Assert.Null(back.DeleteTime);
        Assert.Null(back.DeletionReason);
        Assert.Equal((_t.Clock.UtcNow, _t.Clock.UtcNow, d.CreateTime), (back.UndeleteTime, back.IdleSince, back.CreateTime));
        Assert.Equal(back, await _t.Reopen().GetDeploymentAsync("acme", "d1"));
        Assert.Single(await _t.Store.ListLiveDeploymentsAsync());

        var again = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UndeleteDeploymentAsync("acme", "d1", 1));
        Assert.Equal(StatusCode.FailedPrecondition, again.Code);
        Assert.True(await _t.Store.PurgeDeploymentAsync("acme", "d1"));
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.UndeleteDeploymentAsync("acme", "d1", 1))).Code);
    }

    [StoreFact]
    public async Task Scale_requests_are_checked_replaced_and_taken_without_touching_the_desired_count()
    {
        await _t.SeedDeploymentAsync(id: "d1", desired: 1, max: 3);
        await _t.SeedDeploymentAsync(id: "d2", desired: 1, max: 3);
        await _t.Store.RequestScaleAsync("acme", "d1", 3);
        _t.Clock.Advance(TimeSpan.FromSeconds(1));
        await _t.Store.RequestScaleAsync("acme", "d1", 2);
        await _t.Store.RequestScaleAsync("acme", "d2", 0);
        var outside = await Assert.ThrowsAsync<KilnError>(() => _t.Store.RequestScaleAsync("acme", "d1", 4));
        Assert.Equal(StatusCode.InvalidArgument, outside.Code);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.RequestScaleAsync("acme", "nope", 1))).Code);

        Assert.Equal([new ScaleRequest("acme", "d1", 2, _t.Clock.UtcNow), new ScaleRequest("acme", "d2", 0, _t.Clock.UtcNow)],
            await _t.Store.TakeScaleRequestsAsync());
        Assert.Empty(await _t.Store.TakeScaleRequestsAsync());
        // Asking sets nothing by itself: the autoscaler alone writes the desired count.
        Assert.Equal(1, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.DesiredReplicaCount);

        await _t.Store.RequestDeploymentDeletionAsync("acme", "d2");
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.RequestScaleAsync("acme", "d2", 1))).Code);
        await _t.Store.RequestScaleAsync("acme", "d1", 1);
        Assert.True(await _t.Store.PurgeDeploymentAsync("acme", "d1"));
        Assert.Empty(await _t.Store.TakeScaleRequestsAsync());
    }

    [StoreFact]
    public async Task Missing_deployment_is_not_found()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        Assert.Null(await _t.Store.GetDeploymentAsync("acme", "nope"));
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.RequestDeploymentDeletionAsync("acme", "nope"));
        Assert.Equal("deployment accounts/acme/deployments/nope not found", e.Message);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateDeploymentSpecAsync("acme", "nope", TempStore.Spec(), 1))).Code);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.SetDesiredReplicaCountAsync("acme", "nope", 1))).Code);
    }

    [StoreFact]
    public async Task Deployments_are_isolated_by_account()
    {
        await _t.SeedDeploymentAsync("acme", "d1");
        await _t.SeedDeploymentAsync("other", "d1");
        await _t.SeedDeploymentAsync("other", "d2");
        var acme = await _t.Store.ListDeploymentsAsync("acme", PageRequest.First);
        Assert.Equal(["acme"], acme.Items.Select(d => d.Account).Distinct());
        Assert.Equal(1, acme.TotalSize);
        Assert.Null(await _t.Store.GetDeploymentAsync("acme", "d2"));

        await _t.Store.RequestDeploymentDeletionAsync("other", "d1");
        Assert.Equal(DeploymentState.Creating, (await _t.Store.GetDeploymentAsync("acme", "d1"))!.State);
        Assert.Equal(3, (await _t.Store.ListLiveDeploymentsAsync()).Count);
    }
}

public sealed class SqliteDeploymentTests() : DeploymentTests(StoreBackend.Sqlite);

public sealed class PostgresDeploymentTests() : DeploymentTests(StoreBackend.Postgres);
