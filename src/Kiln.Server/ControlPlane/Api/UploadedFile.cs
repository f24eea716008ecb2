using System.Security.Cryptography;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>Streams a request body to a temporary file beside its destination, hashing as it goes.</summary>
public static class UploadedFile
{
    /// <summary>A received file, not yet in place.</summary>
    public sealed record Received(string TempPath, string Sha256, long SizeBytes);

    /// <summary>How temporary files are named: <c>.&lt;destination name&gt;.&lt;guid&gt;.part</c>.</summary>
    public const string TempPattern = ".*.part";

    /// <summary>A fresh temporary path in the directory of <paramref name="destination"/> (created if missing).</summary>
    public static string TempPathFor(string destination)
    {
        var dir = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.part");
    }

    /// <summary>
    /// Deletes every temporary file under <paramref name="root"/>: at startup none is being written,
    /// so any found were left by a server that stopped mid-upload. Returns how many were removed.
    /// </summary>
    public static int RemoveStale(string root)
    {
        if (!Directory.Exists(root)) return 0;
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(root, TempPattern, SearchOption.AllDirectories))
        {
            if (TryDelete(path)) removed++;
        }
        return removed;
    }

    /// <summary>Deletes a temporary file, never masking the failure that is being handled.</summary>
    public static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path)) return false;
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Writes <paramref name="body"/> to a new temporary file; the caller moves or deletes it.</summary>
    public static async Task<Received> ReceiveAsync(Stream body, string destination, CancellationToken ct)
    {
        var temp = TempPathFor(destination);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await body.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                await file.WriteAsync(buffer.AsMemory(0, n), ct);
            }
            return new Received(temp, Convert.ToHexStringLower(hash.GetHashAndReset()), file.Length);
        }
        catch
        {
            // The stream is closed by now (its scope was the try block), so the file goes with it.
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The SHA-256 of a file on disk, lowercase hex.</summary>
    public static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}
