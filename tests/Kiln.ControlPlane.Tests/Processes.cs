using System.Text;

namespace Kiln.ControlPlane.Tests;

/// <summary>Finds and checks processes through /proc (tests run on Linux).</summary>
public static class Processes
{
    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Live processes with an argument containing <paramref name="text"/>.</summary>
    public static IEnumerable<int> WithArgumentContaining(string text)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string cmdline;
            try { cmdline = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "cmdline"))); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (cmdline.Contains(text, StringComparison.Ordinal) && IsAlive(pid)) yield return pid;
        }
    }

    /// <summary>The environment the process started with.</summary>
    public static IReadOnlyDictionary<string, string> Environment(int pid)
    {
        // A process caught in execve (a replica's shell exec'ing the replica) shows an empty environ
        // for a moment: read again until it has one, for up to two seconds.
        for (var attempt = 0; ; attempt++)
        {
            var env = Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ"))
                .Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Where(e => e.Contains('='))
                .Select(e => e.Split('=', 2))
                .GroupBy(kv => kv[0])
                .ToDictionary(g => g.Key, g => g.Last()[1]);
            if (env.Count > 0 || attempt >= 40)
                return env;
            Thread.Sleep(50);
        }
    }

    /// <summary>The value after <paramref name="flag"/> on the process's command line, or null.</summary>
    public static string? ArgumentAfter(int pid, string flag)
    {
        var argv = File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0');
        var i = Array.IndexOf(argv, flag);
        return i >= 0 && i + 1 < argv.Length ? argv[i + 1] : null;
    }

    /// <summary>Resident memory of a process in bytes (VmRSS).</summary>
    public static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>SIGKILL.</summary>
    public static void Kill(int pid)
    {
        try { System.Diagnostics.Process.GetProcessById(pid).Kill(); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }
}
