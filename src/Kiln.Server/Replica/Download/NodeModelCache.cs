using Kiln.Core.ModelFiles;

namespace Kiln.Server.Replica.Download;

/// <summary>
/// A node's model cache (<see cref="ModelCacheLayout"/>), shared by the replicas on the node and
/// coordinated through advisory file locks, which the kernel drops when a process dies: a
/// downloader holds <c>.lock</c> exclusively, so a second replica wanting the same file waits and
/// then finds it in place; a replica holds a shared lock on its own <c>.lease-</c> file for as long
/// as it runs, and the pruner never deletes a file with a held lease.
/// </summary>
public sealed class NodeModelCache(string cacheDir)
{
    /// <summary>The cache's root.</summary>
    public string Root { get; } = cacheDir;

    /// <summary>The cached file with this digest.</summary>
    public string FileFor(string sha256) => ModelCacheLayout.FileFor(Root, sha256);

    /// <summary>Marks <paramref name="file"/> in use by <paramref name="holder"/> until the returned lease is disposed (or the process ends).</summary>
    public IDisposable Lease(string file, string holder)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // Any share mode but None takes a shared flock, which the pruner's exclusive probe cannot get.
        return new FileStream(ModelCacheLayout.LeaseOf(file, holder), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
    }

    /// <summary>Records a use of <paramref name="file"/>: the pruner removes the least recently used first.</summary>
    public static void Touch(string file) => File.SetLastAccessTimeUtc(file, DateTime.UtcNow);

    /// <summary>
    /// Takes the download lock of <paramref name="file"/>, waiting (and calling <paramref name="waiting"/>
    /// every poll) while another replica holds it.
    /// </summary>
    public static async Task<IDisposable> LockAsync(string file, Action waiting, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return new FileStream(ModelCacheLayout.LockOf(file), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(ModelCacheLayout.LockOf(file)))
            {
                waiting();
                await Task.Delay(200, ct);
            }
        }
    }

    /// <summary>Deletes least recently used files not in use until the cache holds at most <paramref name="maxBytes"/>; returns what it deleted.</summary>
    public IReadOnlyList<string> Prune(long maxBytes)
    {
        var folder = ModelCacheLayout.FolderOf(Root);
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var files = Directory.EnumerateFiles(folder, "*" + ModelCacheLayout.Extension)
            .Select(p => new FileInfo(p))
            .Select(f => new CachedFile(f.FullName, f.Length, f.LastAccessTimeUtc, InUse(f.FullName)))
            .ToList();
        var deleted = new List<string>();
        foreach (var victim in CachePruning.Victims(files, maxBytes))
        {
            // A replica may have leased it since it was looked at: check again right before deleting.
            if (InUse(victim.Path))
            {
                continue;
            }
            File.Delete(victim.Path);
            deleted.Add(victim.Path);
        }
        return deleted;
    }

    /// <summary>True while a live process holds a lease on <paramref name="file"/>; stale leases of dead ones are removed on the way.</summary>
    public static bool InUse(string file)
    {
        var dir = Path.GetDirectoryName(file)!;
        var inUse = false;
        foreach (var lease in Directory.EnumerateFiles(dir, Path.GetFileName(file) + ModelCacheLayout.LeaseMarker + "*"))
        {
            try
            {
                using (new FileStream(lease, FileMode.Open, FileAccess.Read, FileShare.None))
                {
                }
                File.Delete(lease);
            }
            catch (IOException)
            {
                inUse = true;
            }
            catch (UnauthorizedAccessException)
            {
                inUse = true; // another user's replica: assume it runs
            }
        }
        return inUse;
    }
}
