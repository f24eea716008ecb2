using Kiln.Core.Autoscaling;
using Kiln.Core.Deployments;
using Kiln.Core.Time;

namespace Kiln.Core.Tests.Autoscaling;

/// <summary>
/// Drives <see cref="Autoscaler.Decide"/> the way the control plane does: every tick it appends a
/// load sample, asks for a decision, applies it and keeps the returned state. Replicas are ready as
/// soon as they are desired, so a sample's ready count is the current desired count.
/// </summary>
internal sealed class AutoscalerSim
{
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(5);

    public FakeClock Clock { get; } = new();
    public List<LoadSample> History { get; } = [];
    public List<AutoscaleDecision> Changes { get; } = [];
    public AutoscalerState State { get; set; } = AutoscalerState.Initial;
    public AutoscalingPolicy Policy { get; set; } = new();
    public int Min { get; set; }
    public int Max { get; set; } = 10;
    public int Current { get; set; } = 1;
    public int Held { get; set; }
    public DateTimeOffset CreateTime { get; }
    public DateTimeOffset? LastRequestTime { get; set; }

    /// <summary>Requests arrive on every tick unless told otherwise (so scale-to-zero stays out of the way).</summary>
    public bool RequestsArrive { get; set; } = true;

    public AutoscalerSim() => CreateTime = Clock.UtcNow;

    public TimeSpan Elapsed => Clock.UtcNow - CreateTime;

    /// <summary>Appends a sample built from the current ready count, then decides and applies.</summary>
    public AutoscaleDecision Step(Func<int, LoadSample> load)
    {
        var sample = load(Current) with { Time = Clock.UtcNow };
        History.Add(sample);
        if (RequestsArrive)
        {
            LastRequestTime = Clock.UtcNow;
        }
        return DecideNow();
    }

    /// <summary>Decides without a new sample.</summary>
    public AutoscaleDecision DecideNow()
    {
        var decision = Autoscaler.Decide(State, Input());
        State = decision.State;
        if (decision.Changed)
        {
            Changes.Add(decision);
        }
        Current = decision.To;
        return decision;
    }

    /// <summary>Steps once per tick through <paramref name="duration"/> (the first step is at the current time).</summary>
    public AutoscaleDecision Run(TimeSpan duration, Func<int, LoadSample> load)
    {
        var end = Clock.UtcNow + duration;
        var last = Step(load);
        while (Clock.UtcNow + Tick <= end)
        {
            Clock.Advance(Tick);
            last = Step(load);
        }
        return last;
    }

    /// <summary>Advances one tick, then steps.</summary>
    public AutoscaleDecision Next(Func<int, LoadSample> load)
    {
        Clock.Advance(Tick);
        return Step(load);
    }

    public AutoscalerInput Input() => new()
    {
        MinReplicas = Min,
        MaxReplicas = Max,
        Policy = Policy,
        CurrentReplicas = Current,
        History = History,
        LastRequestTime = LastRequestTime,
        CreateTime = CreateTime,
        HeldRequests = Held,
        Now = Clock.UtcNow,
    };

    /// <summary>A deployment whose busy batch slots add up to <paramref name="total"/> replicas' worth.</summary>
    public static Func<int, LoadSample> Busy(double total) => ready => new LoadSample
    {
        Time = default,
        ReadyReplicas = ready,
        BatchOccupancy = ready == 0 ? 0 : Math.Min(1, total / ready),
    };

    /// <summary>Per-replica occupancy <paramref name="occupancy"/> whatever the replica count.</summary>
    public static Func<int, LoadSample> Occupancy(double occupancy) => ready => new LoadSample
    {
        Time = default,
        ReadyReplicas = ready,
        BatchOccupancy = occupancy,
    };

    public static Func<int, LoadSample> Idle { get; } = Busy(0);
}
