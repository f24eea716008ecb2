using Kiln.Core.Time;

namespace Kiln.Core.Autoscaling;

/// <summary>
/// Decides a deployment's desired replica count from its bounds, policy, load history and clock.
/// Pure: the same state and input always give the same decision; the caller does the I/O.
/// </summary>
/// <remarks>
/// Rules, in order:
/// <list type="number">
/// <item>Outside [min, max] (the bounds changed): clamp at once.</item>
/// <item>At zero: wake to max(1, min) at once when requests are held, else stay at zero.</item>
/// <item>Scale to zero when min is 0, nothing is held or in flight, and no request arrived for
/// <c>scaleToZeroWindow</c> (counted from creation while none ever did).</item>
/// <item>Scale up when even the lowest need over the last <c>scaleUpWindow</c> exceeds the current
/// count, so a spike shorter than the window does nothing; go to that lowest need, but at most to
/// max(2 × current, current + 4) per step.</item>
/// <item>Scale down when even the highest need over the last <c>scaleDownWindow</c> is below the
/// current count and nothing is held; go to that highest need, but keep at least half per step.
/// Needs for scaling down plan for 90% of each target (<see cref="AutoscalerOptions.ScaleDownTolerance"/>).</item>
/// </list>
/// A need is ceil(total load / per-replica target), the largest over the policy's targets, clamped
/// to [max(min, 1), max]. A window counts only when the history reaches back to its start and the
/// last change is at least a window old, so each change needs a full window of fresh evidence.
/// Min-over-window for up, max-over-window for down, and the gap between the up threshold (the
/// target) and the down threshold (90% of it) keep noisy or slowly wandering load from flapping.
/// </remarks>
public static class Autoscaler
{
    /// <summary>The decision for <paramref name="input"/>, and the state to keep for the next one.</summary>
    public static AutoscaleDecision Decide(AutoscalerState state, AutoscalerInput input, AutoscalerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        Validate(input);
        options ??= AutoscalerOptions.Default;
        var current = input.CurrentReplicas;
        var (min, max) = (input.MinReplicas, input.MaxReplicas);

        if (current > max)
        {
            return Change(ScaleAction.Clamp, input, max, $"maxReplicaCount is {max}");
        }
        if (current < min)
        {
            return Change(ScaleAction.Clamp, input, min, $"minReplicaCount is {min}");
        }
        if (current == 0)
        {
            return input.HeldRequests > 0
                ? Change(ScaleAction.Wake, input, Math.Clamp(1, min, max), $"{Requests(input.HeldRequests)} waiting")
                : Hold(state, input, "scaled to zero; the next request wakes it");
        }

        var latest = LoadWindow.Latest(input.History, input.Now);
        if (ToZeroReason(state, input, latest) is { } idle)
        {
            return Change(ScaleAction.ScaleToZero, input, 0, idle);
        }
        if (latest is null)
        {
            return Hold(state, input, "no load samples yet");
        }
        var age = input.Now - latest.Time;
        if (age > options.MaxSampleAge)
        {
            return Hold(state, input, $"newest load sample is {Duration(age)} old");
        }

        var floor = Math.Max(min, 1);
        var targets = input.Policy.LoadTargets;
        var up = LoadNeeds.Largest(latest, targets);
        if (Math.Clamp(up.Replicas, floor, max) > current)
        {
            return TryScaleUp(state, input, options, up);
        }
        var down = LoadNeeds.Largest(latest, targets, DownHeadroom(options));
        if (Math.Clamp(down.Replicas, floor, max) < current)
        {
            return TryScaleDown(state, input, options, down);
        }
        var why = up.Replicas > max ? $"{up.Describe(current, ">")} but maxReplicaCount is {max}"
            : down.Replicas < floor && min > 0 ? $"{up.Describe(current, "<")} but minReplicaCount is {min}"
            : down.Replicas < floor ? $"{up.Describe(current, "<")}; idle until the scale-to-zero window"
            : $"{up.Describe(current, "<=")}";
        return Hold(state, input, why);
    }

    private static AutoscaleDecision TryScaleUp(AutoscalerState state, AutoscalerInput input, AutoscalerOptions options, LoadNeed latest)
    {
        var current = input.CurrentReplicas;
        var window = input.Policy.ScaleUpWindow;
        var load = latest.Describe(current, ">");
        if (SinceLastChange(state, input) is { } since && since < window)
        {
            return Hold(state, input, $"{load}, but the last change was {Duration(since)} ago (scale-up window {Duration(window)})");
        }
        var needs = LoadWindow.Over(input.History, input.Now, window, input.Policy.LoadTargets);
        var lowest = needs is { } n ? Math.Clamp(n.Lowest.Replicas, Math.Max(input.MinReplicas, 1), input.MaxReplicas) : 0;
        if (lowest <= current)
        {
            return Hold(state, input, $"{load}, not yet for {Duration(window)}");
        }
        var to = Math.Min(lowest, options.UpperStepBound(current));
        return Change(ScaleAction.ScaleUp, input, to, $"{needs!.Value.Lowest.Describe(current, ">")} for {Duration(window)}");
    }

    private static AutoscaleDecision TryScaleDown(AutoscalerState state, AutoscalerInput input, AutoscalerOptions options, LoadNeed latest)
    {
        var current = input.CurrentReplicas;
        var window = input.Policy.ScaleDownWindow;
        var load = latest.Describe(current, "<");
        if (input.HeldRequests > 0)
        {
            return Hold(state, input, $"{load}, but {Requests(input.HeldRequests)} waiting");
        }
        if (SinceLastChange(state, input) is { } since && since < window)
        {
            return Hold(state, input, $"{load}, but the last change was {Duration(since)} ago (scale-down window {Duration(window)})");
        }
        var needs = LoadWindow.Over(input.History, input.Now, window, input.Policy.LoadTargets, DownHeadroom(options));
        var highest = needs is { } n ? Math.Clamp(n.Highest.Replicas, Math.Max(input.MinReplicas, 1), input.MaxReplicas) : current;
        if (highest >= current)
        {
            return Hold(state, input, $"{load}, not yet for {Duration(window)}");
        }
        var to = Math.Max(highest, options.LowerStepBound(current));
        return Change(ScaleAction.ScaleDown, input, to, $"{needs!.Value.Highest.Describe(current, "<")} for {Duration(window)}");
    }

    private static double DownHeadroom(AutoscalerOptions options) => Math.Clamp(1 - options.ScaleDownTolerance, 0.01, 1);

    /// <summary>
    /// A count a user asked for (<c>:scale</c>, already checked against the bounds, clamped here in
    /// case they changed since): set at once, as a change, so the scale-up and scale-down windows
    /// start again from it and load moves it only once a full window says so; its time also
    /// restarts the scale-to-zero clock.
    /// </summary>
    public static AutoscaleDecision Requested(AutoscalerState state, AutoscalerInput input, int requested)
    {
        ArgumentNullException.ThrowIfNull(state);
        Validate(input);
        ArgumentOutOfRangeException.ThrowIfNegative(requested);
        var to = Math.Clamp(requested, input.MinReplicas, input.MaxReplicas);
        var why = to == requested ? "requested" : $"requested {requested}, within [{input.MinReplicas}, {input.MaxReplicas}]";
        var decision = Change(ScaleAction.Requested, input, to, $"{why}; {ScaleOutlook.Next(input.Policy, input.MinReplicas, to)}");
        return decision with { State = decision.State with { RequestedTime = input.Now } };
    }

    // Why the deployment should drop to zero now, or null while it should not.
    private static string? ToZeroReason(AutoscalerState state, AutoscalerInput input, LoadSample? latest)
    {
        if (input.MinReplicas > 0 || input.HeldRequests > 0 || latest?.ConcurrentRequests > 0)
        {
            return null;
        }
        if (state.RequestedTime is { } asked && input.Now - asked < input.Policy.ScaleToZeroWindow)
        {
            return null;
        }
        // CreateTime is where the idle clock starts (creation, or an undelete), even after older requests.
        var lastRequest = input.LastRequestTime is { } last && last >= input.CreateTime ? last : (DateTimeOffset?)null;
        var idle = input.Now - (lastRequest ?? input.CreateTime);
        if (idle < input.Policy.ScaleToZeroWindow)
        {
            return null;
        }
        return lastRequest is null ? $"no request since creation {Duration(idle)} ago" : $"no request for {Duration(idle)}";
    }

    private static TimeSpan? SinceLastChange(AutoscalerState state, AutoscalerInput input) =>
        state.LastChangeTime is { } t ? input.Now - t : null;

    private static AutoscaleDecision Change(ScaleAction action, AutoscalerInput input, int to, string why)
    {
        var from = input.CurrentReplicas;
        var verb = action switch
        {
            ScaleAction.ScaleUp => "scale up",
            ScaleAction.ScaleDown => "scale down",
            ScaleAction.ScaleToZero => "scale to zero",
            ScaleAction.Wake => "wake",
            ScaleAction.Requested => "scale",
            _ => "clamp",
        };
        return new(action, from, to, $"{verb} {from} -> {to}: {why}", new AutoscalerState(input.Now));
    }

    private static AutoscaleDecision Hold(AutoscalerState state, AutoscalerInput input, string why) =>
        new(ScaleAction.Hold, input.CurrentReplicas, input.CurrentReplicas, $"hold at {input.CurrentReplicas}: {why}", state);

    private static string Requests(int n) => n == 1 ? "1 request" : $"{n} requests";

    // Whole seconds in Go's format ("1h0m0s"), as the CLI shows windows.
    internal static string Duration(TimeSpan span) =>
        GoDuration.Format(TimeSpan.FromSeconds(Math.Floor(Math.Max(0, span.TotalSeconds))));

    private static void Validate(AutoscalerInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(input.MinReplicas, nameof(input.MinReplicas));
        ArgumentOutOfRangeException.ThrowIfLessThan(input.MaxReplicas, Math.Max(input.MinReplicas, 1), nameof(input.MaxReplicas));
        ArgumentOutOfRangeException.ThrowIfNegative(input.CurrentReplicas, nameof(input.CurrentReplicas));
        ArgumentOutOfRangeException.ThrowIfNegative(input.HeldRequests, nameof(input.HeldRequests));
    }
}
