namespace Kiln.Server.Logging;

/// <summary>
/// Collects whole log lines and writes them to a stream from one background thread, many lines a
/// write: a busy server logs a line per request, and a write (a system call) per line costs more
/// than forming it. Lines reach the stream within <see cref="BatchDelay"/> of being logged.
/// </summary>
public sealed class LogLineSink : IDisposable
{
    /// <summary>How long the writer lets lines gather after the first one arrives.</summary>
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(2);

    // Beyond this, loggers wait for the writer (as the console logger's full queue does) instead of
    // letting a stalled stream grow the process without bound.
    private const int MaxPendingBytes = 1 << 20;

    private readonly Stream _output;
    private readonly object _gate = new();
    private readonly Thread _writer;
    private MemoryStream _pending = new();
    private MemoryStream _writing = new();
    private bool _stopping;

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
            if (_pending.Length == line.Length)
            {
                Monitor.PulseAll(_gate); // the writer waits only while nothing is pending
            }
        }
    }

    private void WriteLoop()
    {
        while (true)
        {
            lock (_gate)
            {
                while (_pending.Length == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
                if (_pending.Length == 0)
                {
                    return; // stopping, and everything is written
                }
                if (!_stopping)
                {
                    Monitor.Wait(_gate, BatchDelay); // let a burst gather into one write
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
