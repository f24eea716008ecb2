using System.Diagnostics;

namespace Kiln.Engine.Threading;

/// <summary>A unit of parallel work: each worker runs its share, identified by index and count.</summary>
public interface IParallelJob
{
    void Execute(int worker, int workers);
}

/// <summary>
/// A fixed set of worker threads that live as long as the model. The caller thread is worker 0.
/// A job is published by bumping a generation counter that idle workers spin on for a short while
/// before they block, and joined by spinning on a pending count: a decode step runs about a hundred
/// short jobs back to back, and a kernel wake-up per job would cost more than the job itself.
/// Blocking uses a sleeping flag checked after a full fence on both sides, so no wake-up is lost.
/// The spins poll without the x86 pause instruction (Thread.SpinWait): on virtual machines pause loops
/// trigger the hypervisor's pause-loop exiting, which deschedules the spinning vCPU and made every
/// handoff cost tens of microseconds instead of one.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle thread spins before it blocks: covers the gaps between a step's jobs and between steps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 4000; // 250 µs

    /// <summary>Polls of the flag between clock reads while spinning.</summary>
    private const int PollsPerClockRead = 64;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private int _callerSleeping;
    private IParallelJob? _job;
    private int _pending;
    private int _generation;
    private volatile bool _stopping;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        _wake = new ManualResetEventSlim[Threads - 1];
        _sleeping = new int[Threads - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var index = i + 1;
            _wake[i] = new ManualResetEventSlim(false, spinCount: 0);
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
        Volatile.Write(ref _pending, Threads - 1);
        Interlocked.Increment(ref _generation); // full fence: the job is visible before the new generation
        for (var i = 0; i < _wake.Length; i++)
            if (Volatile.Read(ref _sleeping[i]) != 0) _wake[i].Set();
        try
        {
            job.Execute(0, Threads);
        }
        finally
        {
            WaitForWorkers();
            _job = null;
        }
        if (_failure is not null) throw new AggregateException("a worker failed", _failure);
    }

    private void WaitForWorkers()
    {
        while (true)
        {
            var until = Stopwatch.GetTimestamp() + SpinTicks;
            do
            {
                for (var i = 0; i < PollsPerClockRead; i++)
                    if (Volatile.Read(ref _pending) == 0) return;
            }
            while (Stopwatch.GetTimestamp() <= until);
            Interlocked.Exchange(ref _callerSleeping, 1);
            if (Volatile.Read(ref _pending) != 0) _done.Wait();
            // A set left over from an earlier run may have woken us: clear it and look again.
            _done.Reset();
            Volatile.Write(ref _callerSleeping, 0);
        }
    }

    private void Loop(int index)
    {
        var seen = 0;
        var slot = index - 1;
        while (true)
        {
            seen = WaitForJob(slot, seen);
            if (_stopping) return;
            try
            {
                _job!.Execute(index, Threads);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _callerSleeping) != 0) _done.Set();
        }
    }

    /// <summary>Spins, then blocks, until the generation moves past <paramref name="seen"/>; returns the new one.</summary>
    private int WaitForJob(int slot, int seen)
    {
        while (true)
        {
            var until = Stopwatch.GetTimestamp() + SpinTicks;
            do
            {
                for (var i = 0; i < PollsPerClockRead; i++)
                {
                    var g = Volatile.Read(ref _generation);
                    if (g != seen || _stopping) return g;
                }
            }
            while (Stopwatch.GetTimestamp() <= until);
            Interlocked.Exchange(ref _sleeping[slot], 1);
            var now = Volatile.Read(ref _generation);
            if (now == seen && !_stopping) _wake[slot].Wait();
            _wake[slot].Reset();
            Volatile.Write(ref _sleeping[slot], 0);
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
