namespace Kiln.Core.ModelFiles;

/// <summary>
/// A download's speed over its last few seconds, and the time left at that speed. Fed (time, bytes
/// so far) samples; a resumed download's first sample is where it resumed, so kept bytes never
/// count as speed.
/// </summary>
public sealed class TransferRate(TimeSpan window)
{
    private readonly Queue<(DateTimeOffset At, long Bytes)> _samples = new();

    /// <summary>A rate over the last 5 seconds.</summary>
    public TransferRate() : this(TimeSpan.FromSeconds(5))
    {
    }

    /// <summary>Records that <paramref name="bytes"/> were on disk at <paramref name="at"/>.</summary>
    public void Add(DateTimeOffset at, long bytes)
    {
        if (_samples.Count > 0 && bytes < _samples.Last().Bytes)
        {
            _samples.Clear(); // the download started over
        }
        _samples.Enqueue((at, bytes));
        while (_samples.Count > 2 && at - _samples.Peek().At > window)
        {
            _samples.Dequeue();
        }
    }

    /// <summary>Bytes per second over the window; null until two samples are some time apart.</summary>
    public double? BytesPerSecond
    {
        get
        {
            if (_samples.Count < 2)
            {
                return null;
            }
            var (first, last) = (_samples.Peek(), _samples.Last());
            var seconds = (last.At - first.At).TotalSeconds;
            return seconds < 0.2 ? null : (last.Bytes - first.Bytes) / seconds;
        }
    }

    /// <summary>The time to fetch the rest of <paramref name="total"/> at the current rate; null when either is unknown or nothing moves.</summary>
    public TimeSpan? Remaining(long? total) => Eta(_samples.Count > 0 ? _samples.Last().Bytes : 0, total, BytesPerSecond);

    /// <summary>The time to fetch <paramref name="total"/> - <paramref name="done"/> bytes at <paramref name="bytesPerSecond"/>.</summary>
    public static TimeSpan? Eta(long done, long? total, double? bytesPerSecond) =>
        total is { } t && bytesPerSecond is { } rate && rate > 0
            ? TimeSpan.FromSeconds(Math.Ceiling(Math.Max(0, t - done) / rate))
            : null;
}
