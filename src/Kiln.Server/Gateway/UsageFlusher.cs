namespace Kiln.Server.Gateway;

/// <summary>Writes the <see cref="UsageRecorder"/>'s sums every interval, and once more on shutdown.</summary>
public sealed class UsageFlusher(UsageRecorder recorder, GatewayOptions options, ILogger<UsageFlusher> log) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.UsageFlush);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await FlushAsync(CancellationToken.None);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        try
        {
            await recorder.FlushAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "writing request usage failed; keeping it for the next attempt");
        }
    }
}
