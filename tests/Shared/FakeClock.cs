using Kiln.Core.Time;

namespace Kiln.Tests.Shared;

/// <summary>A clock that moves only when told to; thread-safe. For tests.</summary>
public sealed class FakeClock : IClock
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now;

    /// <summary>Starts at <paramref name="start"/>, or at 2025-01-01T00:00:00Z.</summary>
    public FakeClock(DateTimeOffset? start = null) =>
        _now = (start ?? new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToUniversalTime();

    /// <inheritdoc />
    public DateTimeOffset UtcNow
    {
        get
        {
            lock (_gate)
            {
                return _now;
            }
        }
    }

    /// <summary>Moves the clock forward (or back, for a negative span) and returns the new time.</summary>
    public DateTimeOffset Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
            return _now;
        }
    }

    /// <summary>Sets the clock to <paramref name="now"/>.</summary>
    public void Set(DateTimeOffset now)
    {
        lock (_gate)
        {
            _now = now.ToUniversalTime();
        }
    }
}
