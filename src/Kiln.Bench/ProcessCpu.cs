using System.Diagnostics;
using System.Globalization;

namespace Kiln.Bench;

/// <summary>
/// CPU time (user + system) of processes, for per-request cost figures: on a machine shared with
/// other work CPU per request moves far less than wall-clock rates do.
/// </summary>
internal static class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ

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

    /// <summary>
    /// User and system time of the process's live threads whose name <paramref name="include"/>
    /// accepts (all by default); null where /proc is missing. Exited threads drop out.
    /// </summary>
    public static TimeSpan? OfThreads(int pid, Func<string, bool>? include = null) =>
        Threads(pid, include) is { } threads ? TimeSpan.FromSeconds(threads.Values.Sum() / TicksPerSecond) : null;

    /// <summary>
    /// CPU time between two <see cref="Threads"/> readings of one process, over the threads alive at
    /// the second: a thread that exited in between (a finished warm-up's scheduler) takes its time
    /// with it instead of making the difference smaller.
    /// </summary>
    public static TimeSpan Between(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after) =>
        TimeSpan.FromSeconds(after.Sum(t => t.Value - before.GetValueOrDefault(t.Key)) / TicksPerSecond);

    /// <summary>Clock ticks of user and system time of each live thread (by thread ID) whose name <paramref name="include"/> accepts.</summary>
    public static Dictionary<string, long>? Threads(int pid, Func<string, bool>? include = null)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks)) return null;
        var threads = new Dictionary<string, long>();
        foreach (var dir in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                if (include is not null && !include(File.ReadAllText(Path.Combine(dir, "comm")).Trim())) continue;
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // Fields after the parenthesised name: state is the first, utime the 12th, stime the 13th.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                threads[Path.GetFileName(dir)] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread exited while being read.
            }
        }
        return threads;
    }
}
