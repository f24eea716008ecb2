using System.Globalization;
using Kiln.Core.Time;

namespace Kiln.Core.Billing;

/// <summary>Whether an unused deployment should be deleted.</summary>
/// <param name="ShouldDelete">True when it has been unused for its whole <c>unusedAutoDeleteDuration</c>.</param>
/// <param name="DeleteAt">When it will be deleted if no request arrives first; null when auto-delete is off.</param>
/// <param name="Reason">Why, for the deployment's status and events.</param>
public sealed record AutoDeleteDecision(bool ShouldDelete, DateTimeOffset? DeleteAt, string Reason);

/// <summary>The rule behind <c>unusedAutoDeleteDuration</c>.</summary>
public static class AutoDelete
{
    /// <summary>
    /// Delete once no request arrived for <paramref name="unusedAutoDeleteDuration"/>, counted from
    /// the last request, or from creation while none ever did. Zero disables it.
    /// </summary>
    public static AutoDeleteDecision Evaluate(TimeSpan unusedAutoDeleteDuration, DateTimeOffset createTime, DateTimeOffset? lastRequestTime, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(unusedAutoDeleteDuration, TimeSpan.Zero);
        if (unusedAutoDeleteDuration == TimeSpan.Zero)
        {
            return new(false, null, "auto-delete disabled (unusedAutoDeleteDuration is 0)");
        }
        var since = lastRequestTime is { } last && last > createTime ? last : createTime;
        var deleteAt = SaturatingTime.Plus(since, unusedAutoDeleteDuration);
        var what = lastRequestTime is null
            ? $"no request since creation at {Stamp(createTime)}"
            : $"last request at {Stamp(since)}";
        var window = GoDuration.Format(unusedAutoDeleteDuration);
        return now >= deleteAt
            ? new(true, deleteAt, $"unused for {window}: {what}")
            : new(false, deleteAt, $"deleted at {Stamp(deleteAt)} if still unused ({what}; unusedAutoDeleteDuration {window})");
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
