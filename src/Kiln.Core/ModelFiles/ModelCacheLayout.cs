namespace Kiln.Core.ModelFiles;

/// <summary>
/// The layout of a node's model cache, keyed by content: <c>DIR/sha256/&lt;hex&gt;.gguf</c>, with
/// beside each file its download in progress (<c>.partial</c>), the lock its downloader holds
/// (<c>.lock</c>) and one lease per replica using it (<c>.lease-&lt;replica&gt;</c>). Paths are
/// POSIX: the cache lives on the nodes replicas run on.
/// </summary>
public static class ModelCacheLayout
{
    /// <summary>The subfolder holding files by their SHA-256.</summary>
    public const string Folder = "sha256";

    /// <summary>The extension of a cached model file.</summary>
    public const string Extension = ".gguf";

    /// <summary>The marker in a lease file's name, after the model's file name.</summary>
    public const string LeaseMarker = ".lease-";

    /// <summary>The folder of every cached file under <paramref name="cacheDir"/>.</summary>
    public static string FolderOf(string cacheDir) => $"{cacheDir.TrimEnd('/')}/{Folder}";

    /// <summary>The cached file with digest <paramref name="sha256"/> (lowercase hex).</summary>
    public static string FileFor(string cacheDir, string sha256) => $"{FolderOf(cacheDir)}/{sha256}{Extension}";

    /// <summary>The download in progress of <paramref name="file"/>.</summary>
    public static string PartialOf(string file) => file + ".partial";

    /// <summary>The lock a downloader of <paramref name="file"/> holds.</summary>
    public static string LockOf(string file) => file + ".lock";

    /// <summary>The lease replica <paramref name="holder"/> holds on <paramref name="file"/> while it runs.</summary>
    public static string LeaseOf(string file, string holder) => file + LeaseMarker + holder;

    /// <summary>True for a SHA-256 in lowercase hex (64 digits).</summary>
    public static bool IsSha256(string? hex) =>
        hex is { Length: 64 } && hex.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
