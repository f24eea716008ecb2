using System.Collections.Concurrent;
using System.Security.Cryptography;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Server.ControlPlane.Addons;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Distribution;

/// <summary>A model's file as replicas download it.</summary>
/// <param name="Path">The file on the server.</param>
/// <param name="Sha256">Its SHA-256, lowercase hex.</param>
/// <param name="Length">Its size in bytes.</param>
public sealed record ServedFile(string Path, string Sha256, long Length);

/// <summary>
/// Which file a replica downloads for a model, and its digest: a base model's uploaded file (its
/// digest recorded at upload), or an addon's merged model (written by the reconciler for a
/// single-addon deployment; its digest computed once per server process and remembered while the
/// file's size and time stay the same).
/// </summary>
public sealed class ServedFiles(DataDirectory dir)
{
    private readonly ConcurrentDictionary<string, (long Length, DateTime Written, string Sha256)> _digests = new();

    /// <summary>The file of <paramref name="model"/>; NOT_FOUND or FAILED_PRECONDITION when there is none to serve.</summary>
    public async Task<ServedFile> ResolveAsync(ModelRecord model, CancellationToken ct)
    {
        if (model.State != ModelState.Ready)
        {
            throw KilnError.FailedPrecondition($"model {model.Name} is {model.State.ToWireName()}; only READY models can be downloaded");
        }
        if (model.Kind.IsAddon())
        {
            var merged = Path.Combine(dir.AddonFolder(model.Account, model.Id), MergedAddon.FileName);
            if (!File.Exists(merged))
            {
                throw KilnError.FailedPrecondition($"addon {model.Name} has no merged model yet: it is written when a deployment of it starts");
            }
            return await DigestAsync(merged, ct);
        }
        if (!File.Exists(model.FilePath))
        {
            throw KilnError.FailedPrecondition($"the file of model {model.Name} is missing on the server: {model.FilePath}");
        }
        return await DigestOrRecordedAsync(model, model.FilePath, ct);
    }

    /// <summary>The file at <paramref name="path"/> of <paramref name="model"/>: the digest recorded at upload when it is the uploaded file, else computed.</summary>
    public Task<ServedFile> DigestOrRecordedAsync(ModelRecord model, string path, CancellationToken ct)
    {
        var length = new FileInfo(path).Length;
        return path == model.FilePath && model.Sha256 is { } sha && length == model.SizeBytes
            ? Task.FromResult(new ServedFile(path, sha, length))
            : DigestAsync(path, ct);
    }

    /// <summary>The file at <paramref name="path"/> with its digest, computed unless known for this size and time.</summary>
    public async Task<ServedFile> DigestAsync(string path, CancellationToken ct)
    {
        var info = new FileInfo(path);
        if (_digests.TryGetValue(path, out var known) && known.Length == info.Length && known.Written == info.LastWriteTimeUtc)
        {
            return new ServedFile(path, known.Sha256, known.Length);
        }
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        _digests[path] = (info.Length, info.LastWriteTimeUtc, sha);
        return new ServedFile(path, sha, info.Length);
    }
}
