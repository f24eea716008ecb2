using Kiln.Server.ControlPlane.Controllers;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.Hosting;

/// <summary>
/// The controllers a leader runs (reconciler, autoscaler, reaper, model importer), created afresh for each term so
/// that no memory of an earlier term (load history, backoffs) outlives the lease it was built under.
/// Everything they write is fenced by the term's lease epoch (<see cref="LeaseFence"/>): once another
/// term has begun, the store refuses their writes, even from a leader frozen past its step-down.
/// </summary>
public sealed class ControllerSet(IServiceProvider services, ILogger<ControllerSet> log)
{
    private Reconciler? _reconciler;
    private List<BackgroundService> _running = [];

    /// <summary>Whether controllers run.</summary>
    public bool IsRunning => _running.Count > 0;

    /// <summary>Starts the controllers under <paramref name="term"/>'s fence; they stop by themselves when it ends.</summary>
    public async Task StartAsync(Leadership.Term term)
    {
        // Flows into the controllers' loops started below, and only into them.
        LeaseFence.Enter(new LeaseFence(Leadership.LeaseName, term.Epoch));
        _reconciler = ActivatorUtilities.CreateInstance<Reconciler>(services);
        _running = [_reconciler, ActivatorUtilities.CreateInstance<AutoscalerController>(services), ActivatorUtilities.CreateInstance<Reaper>(services),
            ActivatorUtilities.CreateInstance<Kiln.Server.ControlPlane.Imports.ModelImporter>(services)];
        foreach (var c in _running)
        {
            await c.StartAsync(term.Ending);
        }
    }

    /// <summary>
    /// Stops the controllers' loops and waits for them. On <paramref name="shutdown"/> the reconciler
    /// then stops every replica (a clean stop of the server, as with one instance); otherwise the
    /// replicas keep serving and this instance lets go of them for the next leader to adopt.
    /// </summary>
    public async Task StopAsync(bool shutdown)
    {
        if (_running.Count == 0)
        {
            return;
        }
        foreach (var c in Enumerable.Reverse(_running))
        {
            try
            {
                await c.StopAsync(CancellationToken.None);
            }
            catch (Exception e)
            {
                log.LogWarning(e, "stopping {Controller} failed", c.GetType().Name);
            }
            c.Dispose();
        }
        _running = [];
        if (shutdown)
        {
            await _reconciler!.StopEverythingAsync();
        }
        else
        {
            _reconciler!.LetGo();
        }
        _reconciler = null;
    }
}
