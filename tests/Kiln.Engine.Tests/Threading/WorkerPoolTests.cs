using Kiln.Engine.Threading;

namespace Kiln.Engine.Tests.Threading;

public class WorkerPoolTests
{
    private sealed class CountingJob(int parts, int threads) : IParallelJob
    {
        public readonly int[] Runs = new int[parts];
        private readonly int[] _busy = new int[threads];

        public void Execute(int part, int count, int thread)
        {
            Assert.Equal(Runs.Length, count);
            Assert.InRange(thread, 0, _busy.Length - 1);
            Assert.Equal(1, Interlocked.Increment(ref _busy[thread])); // one part at a time per thread
            Interlocked.Increment(ref Runs[part]);
            Interlocked.Decrement(ref _busy[thread]);
        }
    }

    private sealed class FailingJob : IParallelJob
    {
        public void Execute(int part, int parts, int thread)
        {
            if (part == parts - 1) throw new InvalidOperationException("boom");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryWorkerRunsEachJobExactlyOnceBeforeRunReturns(int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new CountingJob(threads, threads);
        for (var run = 1; run <= 20000; run++)
        {
            pool.Run(job);
            foreach (var n in job.Runs) Assert.Equal(run, n);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void JobsSplitIntoMorePartsThanThreadsRunEachPartOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        // Alternating part counts: a thread late for one run must not take the next run's count for its own.
        var jobs = new[] { new CountingJob(1, threads), new CountingJob(7, threads), new CountingJob(4 * threads, threads) };
        for (var run = 1; run <= 5000; run++)
        {
            foreach (var job in jobs)
            {
                pool.Run(job, job.Runs.Length);
                foreach (var n in job.Runs) Assert.Equal(run, n);
            }
        }
    }

    [Fact]
    public void PartCountsOutsideTheRangeAreRejected()
    {
        using var pool = new WorkerPool(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(new CountingJob(1, 2), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(new CountingJob(1, 2), 70_000));
    }

    /// <summary>Both parts wait for each other, so the run completes only if a second thread takes part.</summary>
    private sealed class RendezvousJob : IParallelJob
    {
        public CountdownEvent Arrived = new(2);

        public void Execute(int part, int parts, int thread) => Assert.True(Arrived.Signal() || Arrived.Wait(TimeSpan.FromSeconds(10)), "no second thread joined");
    }

    [Fact]
    public void WorkersThatFellAsleepWakeForTheNextJob()
    {
        using var pool = new WorkerPool(2);
        for (var run = 1; run <= 5; run++)
        {
            Thread.Sleep(5); // past the polling window, so the worker blocks
            var job = new RendezvousJob();
            pool.Run(job);
            Assert.True(job.Arrived.IsSet);
        }
    }

    [Fact]
    public void AWorkerFailureSurfacesAndThePoolKeepsWorking()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.Run(new FailingJob()));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        var job = new CountingJob(2, 2);
        pool.Run(job);
        Assert.Equal([1, 1], job.Runs);
    }

    [Theory]
    [InlineData(10, 3, 1)]
    [InlineData(100, 2, 16)]
    [InlineData(5, 4, 1)]
    public void RangesCoverEveryIndexOnce(int count, int workers, int align)
    {
        var next = 0;
        for (var w = 0; w < workers; w++)
        {
            var (start, end) = WorkerPool.Range(count, w, workers, align);
            Assert.Equal(next, start);
            Assert.True(end >= start);
            next = end;
        }
        Assert.Equal(count, next);
    }
}
