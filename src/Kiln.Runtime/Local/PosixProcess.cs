using System.Runtime.InteropServices;
using System.Text;

namespace Kiln.Runtime.Local;

/// <summary>Signals and <c>/proc</c> reads for processes that are not (or no longer) our children.</summary>
internal static partial class PosixProcess
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int sig);

    /// <summary>Sends a signal; false when the process no longer exists.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && SysKill(pid, signal) == 0;

    /// <summary>
    /// True while the process exists and is not a zombie. A zombie has exited; it lingers when its
    /// new parent (after our own restart) does not reap it, and must not count as alive.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) S ...": the state follows the last ')', as comm may contain anything.
            var close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The process's arguments (argv), or null when it is gone or unreadable.</summary>
    public static string[]? CommandLine(int pid)
    {
        try
        {
            var raw = File.ReadAllBytes($"/proc/{pid}/cmdline");
            if (raw.Length == 0)
            {
                return null;
            }
            return Encoding.UTF8.GetString(raw).TrimEnd('\0').Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The environment a process started with (<c>/proc/&lt;pid&gt;/environ</c>), or null when it cannot be read.</summary>
    public static IReadOnlyDictionary<string, string>? Environment(int pid)
    {
        try
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = entry.IndexOf('=');
                if (eq > 0)
                {
                    env[entry[..eq]] = entry[(eq + 1)..];
                }
            }
            return env;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The parent's process ID (<c>/proc/&lt;pid&gt;/stat</c>), or null when it is gone or unreadable.</summary>
    public static int? ParentId(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 1 && int.TryParse(fields[1], out var parent) ? parent : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every process ID in <c>/proc</c>.</summary>
    public static IEnumerable<int> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                yield return pid;
            }
        }
    }
}
