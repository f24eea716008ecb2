using Kiln.Core.Leadership;
using Kiln.Core.Time;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.Hosting;

/// <summary>
/// Keeps this instance's claim on the store's controller lease and runs the controllers while it
/// leads: it tries at once on start (a free lease is taken without delay), then renews or tries
/// again every <see cref="LeaseOptions.RenewInterval"/>. A term ends when a renewal says the lease
/// is gone, or by itself <see cref="LeaseOptions.StepDownMargin"/> before the lease could lapse in
/// the store when renewals fail (store unreachable, or this loop stalled), so two instances never
/// run controllers at once. On a clean stop it keeps renewing while the reconciler drains the
/// replicas, then releases the lease so that another instance takes over at once.
/// </summary>
public sealed class LeaderElector(
    IKilnStore store,
    Leadership leadership,
    ControllerSet controllers,
    LeaseOptions options,
    IClock clock,
    ILogger<LeaderElector> log) : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LeaseState _state = LeaseState.Following;
    private CancellationTokenSource? _term;
    private bool _stopping;
    private string? _leaderSeen;

    private string Me => leadership.InstanceId;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        log.LogInformation("server instance {Instance}", Me);
        await ReleaseIfHolderDiedHereAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = clock.UtcNow;
            await AttemptAsync(sent, stoppingToken);
            var wait = sent + options.RenewInterval - clock.UtcNow;
            try
            {
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The renewals go on while the reconciler drains, so nobody adopts replicas being stopped.
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            _stopping = true;
            if (controllers.IsRunning)
            {
                log.LogInformation("stopping the controllers (server shutdown)");
                await controllers.StopAsync(shutdown: true);
            }
        }
        finally
        {
            _gate.Release();
        }
        await base.StopAsync(cancellationToken);
        if (_state.Epoch is not null)
        {
            EndTerm();
            try
            {
                await store.ReleaseLeaseAsync(Leadership.LeaseName, Me, CancellationToken.None);
                log.LogInformation("released the leader lease");
            }
            catch (Exception e)
            {
                log.LogWarning(e, "releasing the leader lease failed; another instance takes over when it expires");
            }
        }
    }

    private async Task AttemptAsync(DateTimeOffset sent, CancellationToken ct)
    {
        LeaseStep step;
        try
        {
            // Off the loop's thread and bounded: an embedded store answers synchronously and may wait
            // for a lock; a hung call counts as a failed renewal.
            var lease = await Task.Run(() => store.TryAcquireOrRenewLeaseAsync(Leadership.LeaseName, Me, options.Ttl, ct), ct)
                .WaitAsync(options.RenewInterval, ct);
            step = _state.Answered(options, sent, clock.UtcNow, lease.Holder == Me, lease.Epoch);
            if (lease.Holder != _leaderSeen && lease.Holder != Me)
            {
                log.LogInformation("instance {Leader} leads (epoch {Epoch})", lease.Holder, lease.Epoch);
            }
            _leaderSeen = lease.Holder;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            step = _state.Checked(clock.UtcNow);
            if (_state.Epoch is not null)
            {
                log.LogWarning("renewing the leader lease failed ({Error}); leading until {Until:O} unless a renewal succeeds",
                    e.Message, _state.LeadsUntil);
            }
            else
            {
                log.LogWarning("trying the leader lease failed: {Error}", e.Message);
            }
        }
        await ApplyAsync(step);
    }

    private async Task ApplyAsync(LeaseStep step)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (_stopping)
            {
                return;
            }
            if (_term is { IsCancellationRequested: true } && step.Transition != LeaseTransition.Lost)
            {
                // The term ran out before this answer came: it ended, whatever the answer says.
                step = new LeaseStep(LeaseState.Following, LeaseTransition.Lost);
            }
            _state = step.State;
            switch (step.Transition)
            {
                case LeaseTransition.Acquired:
                    _term = new CancellationTokenSource();
                    ExtendTerm();
                    var term = new Leadership.Term(_state.Epoch!.Value, _term.Token);
                    leadership.Set(term);
                    log.LogInformation("instance {Instance} leads (epoch {Epoch}): starting the controllers", Me, _state.Epoch);
                    await controllers.StartAsync(term);
                    break;
                case LeaseTransition.Lost:
                    EndTerm();
                    log.LogWarning("instance {Instance} no longer leads: stopping the controllers", Me);
                    await controllers.StopAsync(shutdown: false);
                    break;
                default:
                    ExtendTerm();
                    break;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // The term also ends by itself at its deadline, however late this loop is.
    private void ExtendTerm()
    {
        if (_term is not null && _state.LeadsUntil is { } until)
        {
            var left = until - clock.UtcNow;
            _term.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
    }

    private void EndTerm()
    {
        leadership.Set(null);
        _term?.Cancel();
        _term?.Dispose();
        _term = null;
    }

    /// <summary>
    /// A server restarted after a crash on this host finds the lease still held by its own dead
    /// process: that holder can write nothing any more, so the lease is released at once instead of
    /// waiting out its TTL.
    /// </summary>
    private async Task ReleaseIfHolderDiedHereAsync(CancellationToken ct)
    {
        try
        {
            if (await store.GetLeaseAsync(Leadership.LeaseName, ct) is { } lease && lease.ExpireTime > clock.UtcNow
                && InstanceIds.IsDeadProcessOnThisHost(lease.Holder, Me)
                && await store.ReleaseLeaseAsync(Leadership.LeaseName, lease.Holder, ct))
            {
                log.LogInformation("released the leader lease of {Holder}, whose process is gone", lease.Holder);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("reading the leader lease failed: {Error}", e.Message);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _term?.Dispose();
        _gate.Dispose();
        base.Dispose();
    }
}
