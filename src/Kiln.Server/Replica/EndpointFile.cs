namespace Kiln.Server.Replica;

/// <summary>
/// Tells whoever started the replica on another machine where it listens: <c>host:port</c> in a
/// file, written once the port is bound (it may have been picked by the kernel).
/// </summary>
internal static class EndpointFile
{
    /// <summary>Writes <c>host:port</c> of <paramref name="address"/> atomically, so a reader never sees half a line.</summary>
    public static void Write(string path, Uri address)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = $"{full}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, $"{address.Host}:{address.Port}\n");
        File.Move(temp, full, overwrite: true);
    }
}
