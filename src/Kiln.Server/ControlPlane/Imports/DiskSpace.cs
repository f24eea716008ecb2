using Kiln.Core.Errors;

namespace Kiln.Server.ControlPlane.Imports;

/// <summary>
/// The free space a download may use: what the disk holds free minus the reserve the server keeps.
/// A full disk is found before writing when the length is known, and between writes otherwise;
/// a write the kernel refuses (ENOSPC) is reported the same way.
/// </summary>
public sealed class DiskSpace(long reserveBytes, Func<string, long>? freeBytes = null)
{
    private readonly Func<string, long> _free = freeBytes ?? (dir => new DriveInfo(Path.GetFullPath(dir)).AvailableFreeSpace);

    /// <summary>The reserve kept free.</summary>
    public long ReserveBytes { get; } = reserveBytes;

    /// <summary>Fails with RESOURCE_EXHAUSTED unless <paramref name="bytes"/> more fit in <paramref name="directory"/> above the reserve.</summary>
    public void Require(string directory, long bytes)
    {
        var usable = _free(directory) - ReserveBytes;
        if (bytes > usable)
        {
            throw Full($"needs {bytes} more bytes, {Math.Max(0, usable)} usable (free space minus the {ReserveBytes}-byte reserve, kiln server --download-disk-reserve)");
        }
    }

    /// <summary>The failure of a full disk.</summary>
    public static DownloadFailedException Full(string detail, Exception? inner = null) =>
        new(StatusCode.ResourceExhausted, $"no space left on device for the download: {detail}", inner);

    /// <summary>Whether an I/O error is the disk being full (ENOSPC on Linux; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL elsewhere).</summary>
    public static bool IsFull(IOException e) => (e.HResult & 0xFFFF) is 28 or 0x70 or 0x27;
}
