using System.Collections.Concurrent;
using Kiln.Core.Errors;
using Kiln.Core.ModelFiles;
using Kiln.Core.Models;
using Kiln.Core.Time;
using Kiln.Server.ControlPlane.Api;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Imports;

/// <summary>
/// The controller that downloads models: every poll it lists the DOWNLOADING models and starts a
/// download for each one not yet running (at most <see cref="ModelImportOptions.MaxConcurrent"/> at
/// once), and stops those whose model was deleted. A download resumes what an earlier one (of this
/// server or a previous leader) left in <c>downloads/</c>; on success the file is checked against the
/// expected or published SHA-256, validated as an upload is, moved into place, and the model turns
/// READY; on a failure for good it turns FAILED with the reason and its partial data is deleted. It
/// runs on the leader only, so one server downloads each model.
/// </summary>
public sealed class ModelImporter(
    IKilnStore store,
    DataDirectory dir,
    ModelImportOptions options,
    IClock clock,
    ILogger<ModelImporter> log) : BackgroundService
{
    private readonly ConcurrentDictionary<(string Account, string Id), Running> _running = new();

    private sealed record Running(DateTimeOffset CreateTime, CancellationTokenSource Stop, Task Work);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Redirects are followed by the download itself, to read the digest a redirect publishes.
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30) };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var download = new ResumableDownload(http, options, new DiskSpace(options.DiskReserveBytes), log);
        using var timer = new PeriodicTimer(options.PollInterval);
        try
        {
            do
            {
                try
                {
                    await PassAsync(download, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "model import pass failed");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Leadership ended or the server stops: downloads stop and keep their data for whoever resumes them.
            foreach (var r in _running.Values)
            {
                await r.Stop.CancelAsync();
            }
            await Task.WhenAll(_running.Values.Select(r => r.Work));
        }
    }

    private async Task PassAsync(ResumableDownload download, CancellationToken ct)
    {
        var wanted = await store.ListModelsInStateAsync(ModelState.Downloading, ct);
        foreach (var (key, r) in _running)
        {
            if (!wanted.Any(m => (m.Account, m.Id) == key && m.CreateTime == r.CreateTime))
            {
                await r.Stop.CancelAsync(); // deleted (or replaced) while downloading
            }
        }
        foreach (var model in wanted)
        {
            if (_running.Count(r => !r.Value.Work.IsCompleted) >= options.MaxConcurrent)
            {
                break;
            }
            var key = (model.Account, model.Id);
            if (_running.TryGetValue(key, out var r) && !r.Work.IsCompleted)
            {
                continue;
            }
            var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _running[key] = new Running(model.CreateTime, stop, Task.Run(() => ImportAsync(download, model, stop.Token), CancellationToken.None));
        }
        foreach (var (key, r) in _running.Where(r => r.Value.Work.IsCompleted).ToList())
        {
            _running.TryRemove(key, out _);
            r.Stop.Dispose();
        }
    }

    private async Task ImportAsync(ResumableDownload download, ModelRecord model, CancellationToken ct)
    {
        var part = dir.DownloadPart(model.Account, model.Id);
        var url = new Uri(model.SourceUrl ?? throw new InvalidOperationException($"model {model.Name} is DOWNLOADING without a source URL"));
        var progress = new ProgressWriter(store, model, options.ProgressInterval, clock, log);
        try
        {
            log.LogInformation("Downloading model {Model} from {Url}", model.Name, url);
            var file = await download.RunAsync(url, part, progress.Report, ct);
            await progress.FlushAsync(ct);
            var (digest, note) = Check(model, file);
            var destination = dir.ModelFile(model.Account, model.Id);
            var installed = ModelUpload.Install(part, destination, digest);
            await MarkReadyAsync(model with
            {
                State = ModelState.Ready,
                Sha256 = installed.Sha256,
                SizeBytes = installed.SizeBytes,
                Architecture = installed.Architecture,
                ContextLength = installed.ContextLength,
                Status = new DeploymentStatus(StatusCode.Ok, note),
                Download = null,
            }, destination);
            File.Delete(ResumableDownload.ValidatorOf(part));
            log.LogInformation("Model {Model} imported: {Bytes} bytes, SHA-256 {Sha256} ({Note})", model.Name, installed.SizeBytes, installed.Sha256, note);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Stopped (a cut connection may surface as an I/O error then): a deleted model's data
            // goes; otherwise it stays for the resume.
            if (await store.GetModelAsync(model.Account, model.Id, CancellationToken.None) is not { State: ModelState.Downloading } current
                || current.CreateTime != model.CreateTime)
            {
                ResumableDownload.Discard(part);
            }
        }
        catch (Exception e) when (e is DownloadFailedException or KilnError)
        {
            var (code, message) = e is DownloadFailedException d ? (d.Code, d.Message) : (((KilnError)e).Code, $"the downloaded file cannot be served: {e.Message}");
            ResumableDownload.Discard(part);
            log.LogWarning("Importing model {Model} from {Url} failed: {Error}", model.Name, url, message);
            await progress.DrainAsync();
            await FailAsync(model, code, message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException)
        {
            ResumableDownload.Discard(part);
            log.LogError(e, "Importing model {Model} from {Url} failed", model.Name, url);
            await progress.DrainAsync();
            await FailAsync(model, StatusCode.Internal, $"the download failed: {e.Message}");
        }
    }

    /// <summary>The digest the file must match and how the import says it was checked; DATA_LOSS when it does not match.</summary>
    private static (string Sha256, string Note) Check(ModelRecord model, DownloadedFile file)
    {
        var (expected, from) = model.ExpectedSha256 is { } e ? (e, "the expected SHA-256 (from the catalog or the import request)")
            : file.PublishedSha256 is { } p ? (p, "the SHA-256 its source published") : (null, null);
        if (expected is null)
        {
            return (file.Sha256, "imported; SHA-256 not verified: none was given and the source published none");
        }
        if (!string.Equals(expected, file.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new DownloadFailedException(StatusCode.DataLoss,
                $"checksum mismatch: the downloaded file has SHA-256 {file.Sha256}, but {from} is {expected}");
        }
        return (file.Sha256, $"imported; SHA-256 verified against {from}");
    }

    private async Task MarkReadyAsync(ModelRecord ready, string file)
    {
        try
        {
            await store.UpdateModelAsync(ready, CancellationToken.None);
        }
        catch (KilnError e) when (e.Code == StatusCode.NotFound)
        {
            File.Delete(file); // deleted while its file was being checked
        }
    }

    private async Task FailAsync(ModelRecord model, StatusCode code, string message)
    {
        try
        {
            await store.UpdateModelAsync(model with { State = ModelState.Failed, Status = new DeploymentStatus(code, message), Download = null }, CancellationToken.None);
        }
        catch (KilnError e) when (e.Code == StatusCode.NotFound)
        {
            // Deleted meanwhile: nothing to report on.
        }
    }

    /// <summary>Writes a download's progress and speed to the store, at most once per interval.</summary>
    private sealed class ProgressWriter(IKilnStore store, ModelRecord model, TimeSpan interval, IClock clock, ILogger log)
    {
        private readonly TransferRate _rate = new();
        private readonly Lock _lock = new();
        private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;
        private (long Bytes, long? Total) _latest;
        private Task _writing = Task.CompletedTask;

        public void Report(long bytes, long? total)
        {
            var now = clock.UtcNow;
            lock (_lock)
            {
                _rate.Add(now, bytes);
                _latest = (bytes, total);
                if (_lastWrite == DateTimeOffset.MaxValue || now - _lastWrite < interval || !_writing.IsCompleted)
                {
                    return;
                }
                _lastWrite = now;
                _writing = WriteAsync(Snapshot());
            }
        }

        /// <summary>Waits for a write in flight, so none lands after the model's final state.</summary>
        public async Task DrainAsync()
        {
            Task writing;
            lock (_lock)
            {
                _lastWrite = DateTimeOffset.MaxValue; // no further writes
                writing = _writing;
            }
            await writing;
        }

        public async Task FlushAsync(CancellationToken ct)
        {
            await _writing.WaitAsync(ct);
            ModelDownloadProgress last;
            lock (_lock) last = Snapshot();
            await WriteAsync(last);
        }

        private ModelDownloadProgress Snapshot() =>
            new(_latest.Bytes, _latest.Total, _rate.BytesPerSecond is { } r ? (long)r : null);

        private async Task WriteAsync(ModelDownloadProgress download)
        {
            try
            {
                await store.UpdateModelAsync(model with { Download = download }, CancellationToken.None);
            }
            catch (Exception e) when (e is KilnError or InvalidOperationException)
            {
                log.LogDebug("progress of {Model} not written: {Error}", model.Name, e.Message);
            }
        }
    }
}
