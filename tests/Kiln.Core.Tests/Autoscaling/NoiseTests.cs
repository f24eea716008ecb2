using Kiln.Core.Autoscaling;
using static Kiln.Core.Tests.Autoscaling.AutoscalerSim;

namespace Kiln.Core.Tests.Autoscaling;

public class NoiseTests
{
    // Uniform noise of ±amplitude around base, in replicas' worth of busy batch slots.
    private static Func<int, LoadSample> Noisy(Random random, double total, double amplitude) =>
        ready => Busy(total + (random.NextDouble() * 2 - 1) * amplitude)(ready);

    private static void AssertNoReversal(IReadOnlyList<AutoscaleDecision> changes)
    {
        var directions = changes.Select(c => Math.Sign(c.To - c.From)).Distinct().ToList();
        Assert.True(directions.Count <= 1, "changes went both ways: " + string.Join("; ", changes.Select(c => c.Reason)));
    }

    [Theory]
    [InlineData(1, 0.8, 0.1)] // around the 1 -> 2 threshold
    [InlineData(2, 1.6, 0.15)] // around the 2 -> 3 threshold
    [InlineData(3, 2.4, 0.2)] // around the 3 -> 4 threshold
    [InlineData(2, 0.72, 0.1)] // around the 2 -> 1 threshold
    [InlineData(4, 2.16, 0.2)] // around the 4 -> 3 threshold
    public void Noise_around_a_threshold_never_flaps(int start, double total, double amplitude)
    {
        foreach (var seed in Enumerable.Range(1, 8))
        {
            var sim = new AutoscalerSim { Current = start, Min = 1 };
            sim.Run(TimeSpan.FromHours(3), Noisy(new Random(seed), total, amplitude));
            Assert.True(sim.Changes.Count <= 1, $"seed {seed}: {string.Join("; ", sim.Changes.Select(c => c.Reason))}");
            AssertNoReversal(sim.Changes);
        }
    }

    [Theory]
    [InlineData(2, 1.6)]
    [InlineData(5, 4.0)]
    public void Slow_drift_around_a_threshold_moves_once_and_stays(int start, double threshold)
    {
        // Load wanders ±4% around the threshold with a 30-minute period: long enough to satisfy
        // both windows, so only the gap between the up and down thresholds keeps it from flapping.
        var sim = new AutoscalerSim { Current = start, Min = 1 };
        var random = new Random(5);
        sim.Run(TimeSpan.FromHours(4), ready =>
        {
            var phase = 2 * Math.PI * sim.Elapsed.TotalMinutes / 30;
            return Busy(threshold * (1 + 0.04 * Math.Sin(phase)) + (random.NextDouble() - 0.5) * 0.02)(ready);
        });
        Assert.Equal([(start, start + 1)], sim.Changes.Select(c => (c.From, c.To)));
    }

    [Fact]
    public void Noise_inside_the_dead_band_changes_nothing()
    {
        var sim = new AutoscalerSim { Current = 2, Min = 1 };
        sim.Run(TimeSpan.FromHours(3), Noisy(new Random(3), 1.2, 0.2));
        Assert.Empty(sim.Changes);
    }

    [Fact]
    public void Square_wave_shorter_than_the_windows_holds_steady()
    {
        // Load alternates every 20s between needing 1 and 3 replicas.
        var sim = new AutoscalerSim { Current = 2, Min = 1 };
        var tick = 0;
        sim.Run(TimeSpan.FromHours(1), ready => Busy(tick++ / 4 % 2 == 0 ? 0.3 : 2.3)(ready));
        Assert.Empty(sim.Changes);
    }

    [Fact]
    public void A_real_rise_and_fall_is_followed_once_each_way()
    {
        var sim = new AutoscalerSim { Current = 1, Min = 1 };
        var random = new Random(11);
        sim.Run(TimeSpan.FromMinutes(10), Noisy(random, 0.4, 0.1));
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromMinutes(20), Noisy(random, 2.0, 0.1));
        Assert.Equal([(1, 2), (2, 3)], sim.Changes.Select(c => (c.From, c.To)));
        sim.Clock.Advance(Tick);
        sim.Run(TimeSpan.FromMinutes(40), Noisy(random, 0.4, 0.1));
        Assert.Equal([(1, 2), (2, 3), (3, 2), (2, 1)], sim.Changes.Select(c => (c.From, c.To)));
    }
}
