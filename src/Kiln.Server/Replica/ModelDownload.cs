using Kiln.Server.Replica.Download;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Replica;

/// <summary>The replica's first loading step when it was given <c>--model-url</c>: the model file into the node's cache.</summary>
internal static class ModelDownload
{
    /// <summary>
    /// Fetches the model when the replica downloads it, reporting progress to <c>/health</c>; false
    /// when it failed (recorded as the load error) or the replica is stopping.
    /// </summary>
    public static async Task<bool> FetchAsync(ReplicaState state, ILogger logger, CancellationToken stopping)
    {
        var args = state.Options.Args;
        if (args.ModelUrl is not { } url)
        {
            return true;
        }
        var request = new FetchRequest(new Uri(url), args.ModelSha256!, args.ModelCache!, args.ModelCacheMaxBytes, state.Options.ModelToken,
            $"{args.ReplicaId ?? "replica"}-{Environment.ProcessId}");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        try
        {
            logger.LogInformation("Fetching the model {Sha256} into {Cache} from {Url}", request.Sha256, request.CacheDir, url);
            var (path, lease) = await new ModelFetcher(http).FetchAsync(request, state.Downloading, stopping);
            state.ModelLease = lease;
            logger.LogInformation("Model file ready at {Path}", path);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            logger.LogInformation("Download cut short: the replica is stopping");
            return false;
        }
        catch (ModelDownloadException e)
        {
            state.Failed(e.Message);
            logger.LogError("Downloading the model failed: {Error}", e.Message);
            return false;
        }
        finally
        {
            state.Downloading(null);
        }
    }
}
