namespace Kiln.Server.Gateway;

/// <summary>Keeps the <see cref="ReplicaDirectory"/> fresh: every interval, and at once when prompted.</summary>
public sealed class DirectoryRefresher(ReplicaDirectory directory, ILogger<DirectoryRefresher> log) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await directory.RefreshAsync(stoppingToken);
                await directory.WaitForPromptAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "refreshing the replica directory failed");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
