namespace Kiln.Server.Logging;

/// <summary>
/// Collects whole log lines and writes them to a stream from one background thread, many lines a
/// write: a busy server logs a line per request, and a write (a system call) per line costs more
/// than forming it. Lines reach the stream within <see cref="BatchDelay"/> of being logged.
/// </summary>
/// <remarks>
/// While lines keep coming the writer looks for them every <see cref="BatchDelay"/> by itself, so a
/// logger only appends: waking the writer for a request's line (a system call, and the writer's turn on
/// a core the client of that request was about to need) cost the gateway's one-at-a-time requests about
/// 80 us each on two cores. A look costs a timed wake-up too (about 45 us of CPU in a virtual machine), so
/// after <see cref="IdleAfter"/> without a line the writer sleeps until the next one wakes it: a server
/// with fewer than a hundred lines a second pays per line as before, and an idle one does not tick.
/// </remarks>
public sealed class LogLineSink : IDisposable
{
    /// <summary>How long the writer lets lines gather after the first one arrives.</summary>
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(2);

    /// <summary>How long the writer keeps looking for lines by itself after the last one.</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromMilliseconds(10);

    // Beyond this, loggers wait for the writer (as the console logger's full queue does) instead of
    // letting a stalled stream grow the process without bound.
    private const int MaxPendingBytes = 1 << 20;

    private readonly Stream _output;
    private readonly object _gate = new();
    private readonly Thread _writer;
    private MemoryStream _pending = new();
    private MemoryStream _writing = new();
    private bool _stopping;
    // The writer sleeps until a line wakes it (true) rather than looking again within BatchDelay (false).
    private bool _idle;

    /// <summary>Starts the writer thread over <paramref name="output"/>.</summary>
    public LogLineSink(Stream output)
    {
        _output = output;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Kiln log writer" };
        _writer.Start();
    }

    /// <summary>Queues one line (its bytes, newline included).</summary>
    public void Append(ReadOnlySpan<byte> line)
    {
        lock (_gate)
        {
            while (_pending.Length > MaxPendingBytes && !_stopping)
            {
                Monitor.Wait(_gate);
            }
            _pending.Write(line);
            if (_idle)
            {
                _idle = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void WriteLoop()
    {
        var quietSince = Environment.TickCount64;
        while (true)
        {
            lock (_gate)
            {
                var woken = false;
                while (_pending.Length == 0 && !_stopping)
                {
                    if (Environment.TickCount64 - quietSince < IdleAfter.TotalMilliseconds)
                    {
                        Monitor.Wait(_gate, BatchDelay);
                        continue;
                    }
                    _idle = true;
                    Monitor.Wait(_gate);
                    woken = true;
                }
                if (_pending.Length == 0)
                {
                    return; // stopping, and everything is written
                }
                if (woken && !_stopping)
                {
                    Monitor.Wait(_gate, BatchDelay); // let a burst that woke the writer gather into one write
                }
                (_pending, _writing) = (_writing, _pending);
                Monitor.PulseAll(_gate); // loggers waiting for room
            }
            try
            {
                _output.Write(_writing.GetBuffer(), 0, (int)_writing.Length);
                _output.Flush();
            }
            catch (IOException)
            {
                // Nobody reads the output any more (a closed pipe): the lines are lost, the server goes on.
            }
            _writing.SetLength(0);
            quietSince = Environment.TickCount64;
        }
    }

    /// <summary>Writes what is queued and stops the writer.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _writer.Join(TimeSpan.FromSeconds(5));
    }
}
