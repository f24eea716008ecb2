using System.Diagnostics;

namespace Kiln.Engine.Threading;

/// <summary>
/// A unit of parallel work split into parts. Each part runs exactly once, on whichever pool thread
/// claims it; <c>thread</c> (below the pool's <see cref="WorkerPool.Threads"/>) names that thread, and
/// one thread runs one part at a time, so per-thread scratch needs no locks.
/// </summary>
public interface IParallelJob
{
    void Execute(int part, int parts, int thread);
}

/// <summary>
/// A fixed set of worker threads that live as long as the model; the caller thread works too.
/// A job is published under a new generation and its parts are claimed with a compare-and-swap on a
/// (generation, next part) counter, so a thread that is slow to wake (or descheduled on a busy machine)
/// never holds a job up: the others claim its part. The caller waits only for parts already running.
/// Splitting a job into more parts than threads lets a thread that runs faster (a busy neighbour on a
/// shared host slows the other) take more of them, so neither waits long for the other at the end.
/// Idle threads poll for a short while before they block, because a decode step runs about a hundred
/// short jobs back to back and a kernel wake-up per job would cost more than the job itself. The
/// polls avoid the x86 pause instruction (Thread.SpinWait): on virtual machines pause loops trigger
/// pause-loop exiting, which deschedules the spinning vCPU and made each handoff cost tens of µs.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker polls before it blocks: covers the gaps between a step's jobs.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 4000; // 250 µs

    /// <summary>Polls of the flag between clock reads while spinning.</summary>
    private const int PollsPerClockRead = 64;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly long[] _allocated;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private int _callerSleeping;
    private IParallelJob? _job;
    private long _claim; // generation << 32 | parts << 16 | next unclaimed part
    private int _completed;
    private volatile bool _stopping;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        _wake = new ManualResetEventSlim[Threads - 1];
        _sleeping = new int[Threads - 1];
        _allocated = new long[Threads - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var slot = i;
            _wake[i] = new ManualResetEventSlim(false, spinCount: 0);
            _threads[i] = new Thread(() => Loop(slot + 1)) { IsBackground = true, Name = $"kiln-worker-{slot + 1}" };
            _threads[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>GC bytes the worker threads (not the caller) had allocated as of their last job.</summary>
    internal long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _allocated.Length; i++) sum += Volatile.Read(ref _allocated[i]);
            return sum;
        }
    }

    /// <summary>Runs the job in one part per thread (the caller helping) and returns when all are done.</summary>
    public void Run(IParallelJob job) => Run(job, Threads);

    /// <summary>Runs every one of <paramref name="parts"/> parts of the job (the caller helping) and returns when all are done.</summary>
    public void Run(IParallelJob job, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parts, ushort.MaxValue);
        if (Threads == 1)
        {
            for (var part = 0; part < parts; part++) job.Execute(part, parts, 0);
            return;
        }
        _job = job;
        _failure = null;
        Volatile.Write(ref _completed, 0);
        var generation = (int)(Volatile.Read(ref _claim) >> 32) + 1;
        Interlocked.Exchange(ref _claim, (long)generation << 32 | (long)parts << 16); // full fence: the job is visible first
        for (var i = 0; i < _wake.Length; i++)
            if (Volatile.Read(ref _sleeping[i]) != 0) _wake[i].Set();
        try
        {
            RunParts(job, generation, 0);
        }
        finally
        {
            WaitForParts(parts);
            _job = null;
        }
        if (_failure is not null) throw new AggregateException("a worker failed", _failure);
    }

    /// <summary>Claims and runs parts of <paramref name="generation"/> until none are left.</summary>
    private void RunParts(IParallelJob job, int generation, int thread)
    {
        while (true)
        {
            // The part count travels in the claim itself, so a thread late for one run can never
            // pair that run's generation with the next run's count.
            var claim = Volatile.Read(ref _claim);
            var parts = (int)(claim >> 16) & 0xFFFF;
            var part = (int)claim & 0xFFFF;
            if ((int)(claim >> 32) != generation || part >= parts) return;
            if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim) continue;
            try
            {
                job.Execute(part, parts, thread);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Increment(ref _completed) == parts && Volatile.Read(ref _callerSleeping) != 0) _done.Set();
        }
    }

    private void WaitForParts(int parts)
    {
        while (true)
        {
            var until = Stopwatch.GetTimestamp() + SpinTicks;
            do
            {
                for (var i = 0; i < PollsPerClockRead; i++)
                    if (Volatile.Read(ref _completed) == parts) return;
            }
            while (Stopwatch.GetTimestamp() <= until);
            Interlocked.Exchange(ref _callerSleeping, 1);
            if (Volatile.Read(ref _completed) != parts) _done.Wait();
            // A set left over from an earlier run may have woken us: clear it and look again.
            _done.Reset();
            Volatile.Write(ref _callerSleeping, 0);
        }
    }

    private void Loop(int thread)
    {
        var seen = 0;
        var slot = thread - 1;
        while (true)
        {
            seen = WaitForJob(slot, seen);
            if (_stopping) return;
            // The job read after the generation: if it already belongs to a later run, every part of
            // this generation is claimed and RunParts does nothing.
            var job = Volatile.Read(ref _job);
            if (job is not null) RunParts(job, seen, thread);
            Volatile.Write(ref _allocated[slot], GC.GetAllocatedBytesForCurrentThread());
        }
    }

    /// <summary>Polls, then blocks, until the generation moves past <paramref name="seen"/>; returns the new one.</summary>
    private int WaitForJob(int slot, int seen)
    {
        while (true)
        {
            var until = Stopwatch.GetTimestamp() + SpinTicks;
            do
            {
                for (var i = 0; i < PollsPerClockRead; i++)
                {
                    var g = (int)(Volatile.Read(ref _claim) >> 32);
                    if (g != seen || _stopping) return g;
                }
            }
            while (Stopwatch.GetTimestamp() <= until);
            Interlocked.Exchange(ref _sleeping[slot], 1);
            if ((int)(Volatile.Read(ref _claim) >> 32) == seen && !_stopping) _wake[slot].Wait();
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
