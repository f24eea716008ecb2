using System.Text;
using System.Text.Json;

namespace Kiln.Runtime.Local;

/// <summary>Reads the end of a replica's log for why it stopped.</summary>
internal static class LogTail
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
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var take = (int)Math.Min(f.Length, TailBytes);
            f.Seek(-take, SeekOrigin.End);
            var buffer = new byte[take];
            f.ReadExactly(buffer);
            var lines = Encoding.UTF8.GetString(buffer).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var i = lines.Length - 1; i >= 0; i--)
            {
                if (ErrorOf(lines[i]) is { } error)
                {
                    return error;
                }
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
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
