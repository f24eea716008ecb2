using System.Net;
using Kiln.Engine.Models;
using Kiln.Engine.Serving;
using Kiln.Engine.Tokenizers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Kiln.Server.Logging;

namespace Kiln.Server.Replica;

/// <summary>
/// The replica HTTP server: OpenAI-compatible endpoints over one model. The port is bound first and
/// the model loads in the background, so health checks see 503 "loading" until it is ready.
/// </summary>
public static class ReplicaHost
{
    /// <summary>
    /// Serves until <paramref name="cancellationToken"/> is cancelled or the host is told to stop;
    /// returns 0 then, or 1 when the model cannot be loaded, so a supervisor sees the failure at once.
    /// </summary>
    public static async Task<int> RunAsync(
        ReplicaOptions options,
        Func<ReplicaOptions, (ILanguageModel, ITokenizer, IChatFormatter)> loadModel,
        CancellationToken cancellationToken)
    {
        string? loadError;
        await using (var replica = await StartAsync(options, loadModel, cancellationToken))
        {
            // The host also stops on SIGTERM/Ctrl+C through its own lifetime; honour either signal.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, replica.Stopping);
            await Task.WhenAny(replica.Loading, Task.Delay(Timeout.Infinite, stop.Token));
            loadError = replica.LoadError;
            if (loadError is null)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        if (loadError is null) return 0;
        // Last, after the host's shutdown logging, so supervisors reading the tail see the reason.
        await Console.Error.WriteLineAsync($"kiln replica: cannot load {Path.GetFileName(options.ModelPath)}: {loadError}");
        return 1;
    }

    /// <summary>Binds the port, starts loading the model, and returns without waiting for the load.</summary>
    public static async Task<RunningReplica> StartAsync(
        ReplicaOptions options,
        Func<ReplicaOptions, (ILanguageModel, ITokenizer, IChatFormatter)> loadModel,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        var state = new ReplicaState(options);
        // Kiln reads no configuration files; a reload watcher on the working folder (where logs may be
        // written) would only wake on every write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls($"http://{UrlHost(options.Host)}:{options.Port}");
        RequestLimits.ConfigureKestrel(builder.WebHost);
        builder.Logging.AddKilnConsole();
        var app = builder.Build();
        app.UseRequestIds();
        app.UseReplicaAccessLog(state);
        ReplicaRoutes.Map(app, state);
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Kiln.Replica");
        logger.LogInformation("Replica listening on {Address}; loading {Model}", address, Path.GetFileName(options.ModelPath));
        if (Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is { } devices)
        {
            logger.LogInformation("CUDA_VISIBLE_DEVICES={Devices}", devices);
        }
        if (options.Args.EndpointFile is { } endpointFile)
        {
            EndpointFile.Write(endpointFile, new Uri(address));
        }
        var stopping = app.Lifetime.ApplicationStopping;
        var baseAddress = new Uri(address.Replace("[::]", "localhost"));
        var loading = Task.Run(() => LoadAsync(state, loadModel, SelfAddress(baseAddress), logger, stopping), CancellationToken.None);
        return new RunningReplica(app, state, baseAddress, loading);
    }

    /// <summary>Where the replica reaches itself: a wildcard bind is reached over loopback.</summary>
    private static Uri SelfAddress(Uri address) => address.Host == "0.0.0.0" ? new UriBuilder(address) { Host = "127.0.0.1" }.Uri : address;

    private static async Task LoadAsync(ReplicaState state, Func<ReplicaOptions, (ILanguageModel, ITokenizer, IChatFormatter)> loadModel, Uri self, ILogger logger, CancellationToken stopping)
    {
        try
        {
            if (!await ModelDownload.FetchAsync(state, logger, stopping))
            {
                return;
            }
            var (model, tokenizer, formatter) = loadModel(state.Options);
            ILanguageModel? draft;
            try
            {
                draft = DraftModelLoader.Load(state.Options, model);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            var warmed = WarmUp(model, draft, tokenizer, state.Options, logger, stopping);
            await WarmUpHttpAsync(state, model, tokenizer, formatter, draft, self, state.Options.WarmupBudget - warmed, logger, stopping);
            var session = new ModelSession(model, tokenizer, formatter, state.Options, draft);
            try
            {
                foreach (var spec in state.Options.Adapters)
                {
                    session.RequireAdapters().Load(spec.Name, spec.Path, spec.Scale);
                    logger.LogInformation("Adapter {Name} loaded from {Path} (scale {Scale})", spec.Name, spec.Path, spec.Scale);
                }
            }
            catch
            {
                session.Dispose();
                throw;
            }
            state.Loaded(session);
            logger.LogInformation("Model {Name} loaded: {Info}", state.ModelName, model.Info);
        }
        catch (Exception e)
        {
            state.Failed(e.Message);
            logger.LogError(e, "Loading the model failed");
        }
    }

    /// <summary>
    /// Compiles the serving hot paths before the replica reports ready, so the first burst after a
    /// scale-from-zero runs at warm speed instead of on the JIT's first, unoptimised code.
    /// </summary>
    /// <returns>How long it took.</returns>
    private static TimeSpan WarmUp(ILanguageModel model, ILanguageModel? draft, ITokenizer tokenizer, ReplicaOptions options, ILogger logger, CancellationToken stopping)
    {
        if (options.WarmupBudget <= TimeSpan.Zero) return TimeSpan.Zero;
        try
        {
            var report = Warmup.Run(model, tokenizer, ModelSession.SchedulerOptions(options, draft), options.WarmupBudget, stopping);
            logger.LogInformation("Warm-up: {Report}", report);
            return report.Elapsed;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Told to stop while warming up: a stop need not wait out the warm-up budget, nor is it a load failure.
            logger.LogInformation("Warm-up cut short: the replica is stopping");
            return options.WarmupBudget;
        }
        catch
        {
            model.Dispose();
            draft?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends the replica's own endpoints a share of requests through a session of the serving shape
    /// (its own, so the serving scheduler's metrics and prefix cache see none of it), compiling the
    /// per-request code too before the replica reports ready. A failure only ends the warm-up.
    /// </summary>
    private static async Task WarmUpHttpAsync(ReplicaState state, ILanguageModel model, ITokenizer tokenizer, IChatFormatter formatter, ILanguageModel? draft,
        Uri self, TimeSpan budget, ILogger logger, CancellationToken stopping)
    {
        if (budget <= TimeSpan.Zero || stopping.IsCancellationRequested) return;
        using var warming = new ModelSession(model, tokenizer, formatter, state.Options, draft, ownsModels: false);
        state.Warming(warming);
        try
        {
            var report = await HttpWarmup.RunAsync(self, state.WarmupKey, state.Options.MaxBatchSize, budget, stopping);
            state.HttpWarmupReport = report;
            logger.LogInformation("HTTP warm-up: {Report}", report);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            logger.LogInformation("HTTP warm-up cut short: the replica is stopping");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            logger.LogWarning("HTTP warm-up stopped: {Error}", e.Message);
        }
        finally
        {
            state.Warming(null);
        }
    }

    private static string UrlHost(string host) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
}

/// <summary>A started replica. Disposing stops the server and frees the model.</summary>
public sealed class RunningReplica : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ReplicaState _state;

    internal RunningReplica(WebApplication app, ReplicaState state, Uri baseAddress, Task loading)
    {
        _app = app;
        _state = state;
        BaseAddress = baseAddress;
        Loading = loading;
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:51234</c> (the real port when 0 was asked).</summary>
    public Uri BaseAddress { get; }

    /// <summary>Completes when loading has finished, successfully or not (see <see cref="LoadError"/>).</summary>
    public Task Loading { get; }

    public bool IsReady => _state.Session is not null;

    /// <summary>What the warm-up through the replica's own endpoints did; null when it did not run.</summary>
    internal HttpWarmupReport? HttpWarmupReport => _state.HttpWarmupReport;

    /// <summary>Cancelled when the host begins shutting down (e.g. on SIGTERM).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;
    public string? LoadError => _state.LoadError;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await Loading;
        _state.Session?.Dispose();
        _state.ModelLease?.Dispose();
        await _app.DisposeAsync();
    }
}
