using System.Text;

namespace Kiln.Runtime.Local;

/// <summary>Reads the end of a replica's log.</summary>
internal static class LogTail
{
    /// <summary>The last non-empty line of the file, or null.</summary>
    public static string? LastLine(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var take = (int)Math.Min(f.Length, 8192);
            f.Seek(-take, SeekOrigin.End);
            var buffer = new byte[take];
            f.ReadExactly(buffer);
            var lines = Encoding.UTF8.GetString(buffer).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return lines.Length == 0 ? null : lines[^1];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
