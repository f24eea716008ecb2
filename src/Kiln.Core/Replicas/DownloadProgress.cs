using System.Globalization;

namespace Kiln.Core.Replicas;

/// <summary>How far a replica has fetched its model file.</summary>
/// <param name="Done">Bytes on the node's disk so far (a resumed download counts what it kept).</param>
/// <param name="Total">The file's size, when known.</param>
public sealed record DownloadProgress(long Done, long? Total)
{
    /// <summary>"12.5 of 19.0 MB (65%)", or "12.5 MB" when the size is unknown.</summary>
    public string Describe()
    {
        if (Total is not { } total || total <= 0)
        {
            return $"{Mb(Done)} MB";
        }
        var percent = (int)Math.Floor(100.0 * Math.Min(Done, total) / total);
        return $"{Mb(Done)} of {Mb(total)} MB ({percent.ToString(CultureInfo.InvariantCulture)}%)";
    }

    private static string Mb(long bytes) => (bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture);
}
