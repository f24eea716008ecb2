using System.Text;
using System.Text.Json;

namespace Kiln.Runtime.Local;

/// <summary>Reads the end of a replica's log for why it stopped.</summary>
public static class LogTail
{
    private const int TailBytes = 32 * 1024;

    /// <summary>
    /// The newest error the replica wrote near the end of its log: a JSON log line of level Error or
    /// Critical (its message), or a plain line that the replica or the runtime writes on a fatal
    /// error. Null when the tail holds none: an ordinary last line ("model loaded") says nothing
    /// about why a process ended, so it is never taken for the reason.
    /// </summary>
    public static string? LastError(string path)
    {
        var lines = Tail(path);
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            if (ErrorOf(lines[i]) is { } error)
            {
                return error;
            }
        }
        return null;
    }

    /// <summary>
    /// The last <paramref name="count"/> non-empty lines of the log's tail, joined with " | ", or null
    /// when there are none: for engines whose logs Kiln cannot read for an error line.
    /// </summary>
    public static string? LastLines(string path, int count = 5)
    {
        var lines = Tail(path);
        return lines.Length == 0 ? null : string.Join(" | ", lines.TakeLast(count));
    }

    /// <summary>
    /// Why <paramref name="replica"/> ended, from its log: Kiln's replica writes an error line; another
    /// engine's log is not Kiln's, so its last lines and the command that ran are the best account.
    /// </summary>
    public static string? ReplicaError(ReplicaHandle replica) => replica.Command is { } command
        ? $"last log lines: {LastLines(replica.LogPath) ?? "none"} (engine command: {command})"
        : LastError(replica.LogPath);

    /// <summary>The non-empty lines of the log's last bytes; none when it cannot be read.</summary>
    private static string[] Tail(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var take = (int)Math.Min(f.Length, TailBytes);
            f.Seek(-take, SeekOrigin.End);
            var buffer = new byte[take];
            f.ReadExactly(buffer);
            return Encoding.UTF8.GetString(buffer).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The error a log line reports, or null for any other line.</summary>
    internal static string? ErrorOf(string line)
    {
        if (line.StartsWith('{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.TryGetProperty("LogLevel", out var level) && level.GetString() is "Error" or "Critical"
                    && root.TryGetProperty("Message", out var message))
                {
                    return message.GetString();
                }
            }
            catch (JsonException)
            {
            }
            return null;
        }
        return line.StartsWith("kiln replica:", StringComparison.Ordinal)
            || line.StartsWith("Unhandled exception", StringComparison.Ordinal)
            || line.StartsWith("Process terminated", StringComparison.Ordinal)
            || line.StartsWith("Out of memory", StringComparison.Ordinal)
            ? line
            : null;
    }
}
