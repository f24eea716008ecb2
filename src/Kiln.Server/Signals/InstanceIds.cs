using System.Globalization;
using System.Security.Cryptography;

namespace Kiln.Server.Signals;

/// <summary>Server instance IDs: <c>host-pid-random</c>, so operators see where an instance runs.</summary>
public static class InstanceIds
{
    /// <summary>A new ID for this process.</summary>
    public static string New() =>
        $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>
    /// Whether <paramref name="instanceId"/> names a process of this host that no longer runs, as
    /// seen by the instance <paramref name="self"/>. False when unsure (another host, an ID of
    /// another shape, or a process ID now used by another process).
    /// </summary>
    public static bool IsDeadProcessOnThisHost(string instanceId, string self)
    {
        var parts = instanceId.Split('-');
        if (instanceId == self || parts.Length < 3 || string.Join('-', parts[..^2]) != Environment.MachineName
            || !int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !Directory.Exists("/proc/self"))
        {
            return false;
        }
        if (pid == Environment.ProcessId)
        {
            return true; // an earlier instance with this process's ID: its process is gone
        }
        // A zombie (killed, not yet reaped) has no command line: it can write nothing either.
        try
        {
            return !File.Exists($"/proc/{pid}/cmdline") || File.ReadAllBytes($"/proc/{pid}/cmdline").Length == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
