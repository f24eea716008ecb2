namespace Kiln.Server.ControlPlane.Controllers;

/// <summary>
/// The status message of a deployment the reaper deleted starts with why, and the reconciler keeps
/// that reason in front of its own progress message ("...; stopping 1 replica").
/// </summary>
public static class ReapReason
{
    private const string Prefix = "auto-deleted: ";

    /// <summary>The status message the reaper writes.</summary>
    public static string Message(string why) => Prefix + why;

    /// <summary>The reaper's reason at the start of <paramref name="statusMessage"/>, or null.</summary>
    public static string? Of(string statusMessage)
    {
        if (!statusMessage.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var end = statusMessage.IndexOf("; ", StringComparison.Ordinal);
        return end < 0 ? statusMessage : statusMessage[..end];
    }
}
