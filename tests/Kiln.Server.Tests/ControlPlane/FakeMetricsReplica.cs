using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Tests.ControlPlane;

/// <summary>
/// A replica's <c>/metrics</c> on a free loopback port, in Kiln's names, that counts its scrapes;
/// the running count and generated tokens it reports can be set.
/// </summary>
internal sealed class FakeMetricsReplica : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _scrapes;

    private FakeMetricsReplica(WebApplication app) => _app = app;

    public int Port => new Uri(_app.Urls.First()).Port;

    /// <summary>Scrapes answered so far.</summary>
    public int Scrapes => Volatile.Read(ref _scrapes);

    public int Running { get; set; }
    public long GeneratedTokens { get; set; }

    public static async Task<FakeMetricsReplica> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var replica = new FakeMetricsReplica(app);
        app.MapGet("/metrics", replica.Answer);
        await app.StartAsync();
        return replica;
    }

    private string Answer()
    {
        Interlocked.Increment(ref _scrapes);
        return string.Create(CultureInfo.InvariantCulture,
            $"kiln_active_sequences {Running}\nkiln_queue_depth 0\nkiln_batch_occupancy 0\nkiln_generated_tokens_total {GeneratedTokens}\nkiln_prompt_tokens_total 0\n");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
