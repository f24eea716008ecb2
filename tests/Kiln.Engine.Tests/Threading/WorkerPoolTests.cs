using Kiln.Engine.Threading;

namespace Kiln.Engine.Tests.Threading;

public class WorkerPoolTests
{
    private sealed class CountingJob(int workers) : IParallelJob
    {
        public readonly int[] Runs = new int[workers];

        public void Execute(int worker, int count)
        {
            Assert.Equal(Runs.Length, count);
            Interlocked.Increment(ref Runs[worker]);
        }
    }

    private sealed class FailingJob : IParallelJob
    {
        public void Execute(int worker, int workers)
        {
            if (worker == workers - 1) throw new InvalidOperationException("boom");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryWorkerRunsEachJobExactlyOnceBeforeRunReturns(int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new CountingJob(threads);
        for (var run = 1; run <= 20000; run++)
        {
            pool.Run(job);
            foreach (var n in job.Runs) Assert.Equal(run, n);
        }
    }

    /// <summary>Both parts wait for each other, so the run completes only if a second thread takes part.</summary>
    private sealed class RendezvousJob : IParallelJob
    {
        public CountdownEvent Arrived = new(2);

        public void Execute(int worker, int workers) => Assert.True(Arrived.Signal() || Arrived.Wait(TimeSpan.FromSeconds(10)), "no second thread joined");
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
        var job = new CountingJob(2);
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
