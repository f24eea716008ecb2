namespace Kiln.Engine.Threading;

/// <summary>A unit of parallel work: each worker runs its share, identified by index and count.</summary>
public interface IParallelJob
{
    void Execute(int worker, int workers);
}

/// <summary>
/// A fixed set of worker threads that live as long as the model. The caller thread is worker 0;
/// jobs are handed over through a generation counter and joined with a spin-then-wait barrier,
/// because per-matmul Task or Parallel.For dispatch costs more than a small model's matmul.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wake;
    private readonly ManualResetEventSlim _done = new(false);
    private IParallelJob? _job;
    private int _pending;
    private volatile int _generation;
    private volatile bool _stopping;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        _wake = new ManualResetEventSlim[Threads - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var index = i + 1;
            _wake[i] = new ManualResetEventSlim(false, spinCount: 2000);
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"kiln-worker-{index}" };
            _threads[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>Runs the job on every worker (the caller included) and returns when all are done.</summary>
    public void Run(IParallelJob job)
    {
        if (Threads == 1)
        {
            job.Execute(0, 1);
            return;
        }
        _job = job;
        _failure = null;
        _done.Reset();
        Volatile.Write(ref _pending, Threads - 1);
        _generation++;
        foreach (var w in _wake) w.Set();
        try
        {
            job.Execute(0, Threads);
        }
        finally
        {
            var spins = new SpinWait();
            while (Volatile.Read(ref _pending) != 0)
            {
                if (!spins.NextSpinWillYield)
                {
                    spins.SpinOnce();
                    continue;
                }
                _done.Wait();
                // A worker of the previous run may set _done after this run's Reset (its decrement was
                // already seen by the spin): that stale signal must not end this run early.
                if (Volatile.Read(ref _pending) != 0) _done.Reset();
            }
            _job = null;
        }
        if (_failure is not null) throw new AggregateException("a worker failed", _failure);
    }

    private void Loop(int index)
    {
        var seen = 0;
        var wake = _wake[index - 1];
        while (true)
        {
            wake.Wait();
            wake.Reset();
            if (_stopping) return;
            if (_generation == seen) continue;
            seen = _generation;
            try
            {
                _job!.Execute(index, Threads);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>Splits [0, count) into near-equal contiguous ranges, aligned to <paramref name="align"/>.</summary>
    public static (int Start, int End) Range(int count, int worker, int workers, int align = 1)
    {
        var units = (count + align - 1) / align;
        var start = (int)((long)units * worker / workers) * align;
        var end = (int)((long)units * (worker + 1) / workers) * align;
        return (Math.Min(start, count), Math.Min(end, count));
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var w in _wake) w.Set();
        foreach (var t in _threads) t.Join();
        foreach (var w in _wake) w.Dispose();
        _done.Dispose();
    }
}
