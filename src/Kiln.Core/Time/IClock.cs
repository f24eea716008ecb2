namespace Kiln.Core.Time;

/// <summary>The current time, injected so that controllers and the store are testable.</summary>
public interface IClock
{
    /// <summary>The current UTC instant.</summary>
    DateTimeOffset UtcNow { get; }
}
