using System.Diagnostics;

namespace Kiln.Bench;

/// <summary>
/// CPU time (user + system) of processes, for per-request cost figures: on a machine shared with
/// other work CPU per request moves far less than wall-clock rates do.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>The process's CPU time so far; null when it cannot be read (gone, or not ours to read).</summary>
    public static TimeSpan? Of(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.TotalProcessorTime;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// A child of <paramref name="parent"/> whose command line holds <paramref name="argument"/>
    /// (e.g. a replica's port); Linux only (it reads <c>/proc</c>), null elsewhere or when none is.
    /// </summary>
    public static int? ChildWith(int parent, string argument)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length < 2 || fields[1] != parent.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    continue;
                }
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args.Contains(argument))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // Gone while listing.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }
}
