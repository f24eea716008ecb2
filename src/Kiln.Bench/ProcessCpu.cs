using System.Globalization;

namespace Kiln.Bench;

/// <summary>CPU time of processes from /proc (Linux): unlike wall-clock rates, the machine's other load barely skews it.</summary>
internal static class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ

    /// <summary>
    /// User and system time of the process's live threads whose name <paramref name="include"/>
    /// accepts (all by default); null where /proc is missing. Exited threads drop out.
    /// </summary>
    public static TimeSpan? Of(int pid, Func<string, bool>? include = null) =>
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

    /// <summary>The first child of <paramref name="parent"/> whose command line contains <paramref name="argument"/>; null if none (or no /proc).</summary>
    public static int? Child(int parent, string argument)
    {
        if (!Directory.Exists("/proc")) return null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (ppid == parent && File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Contains(argument)) return pid;
            }
            catch (IOException)
            {
                // The process exited while being read.
            }
        }
        return null;
    }
}
