namespace Kiln.Core.ModelFiles;

/// <summary>One file of a model cache, as the pruner sees it.</summary>
/// <param name="Path">The file.</param>
/// <param name="SizeBytes">Its size.</param>
/// <param name="LastUse">When a replica last started with it.</param>
/// <param name="InUse">A running replica holds a lease on it.</param>
public sealed record CachedFile(string Path, long SizeBytes, DateTimeOffset LastUse, bool InUse);

/// <summary>
/// Which cached model files to delete so the cache fits its bound: least recently used first,
/// never one a running replica uses. When the files in use alone exceed the bound the cache stays
/// over it (a running replica's file is never taken from under it).
/// </summary>
public static class CachePruning
{
    /// <summary>The files to delete, oldest use first, so that at most <paramref name="maxBytes"/> remain (if in-use files allow).</summary>
    public static IReadOnlyList<CachedFile> Victims(IEnumerable<CachedFile> files, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var all = files.ToList();
        var total = all.Sum(f => f.SizeBytes);
        var victims = new List<CachedFile>();
        foreach (var f in all.Where(f => !f.InUse).OrderBy(f => f.LastUse).ThenBy(f => f.Path, StringComparer.Ordinal))
        {
            if (total <= maxBytes)
            {
                break;
            }
            victims.Add(f);
            total -= f.SizeBytes;
        }
        return victims;
    }
}
