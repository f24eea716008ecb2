using System.Runtime;

namespace Kiln.Server.Replica;

/// <summary>
/// Bounds the memory large request bodies take and keep. Each large body costs several times its
/// size while it is parsed and its prompts tokenized (its bytes, the parser's pooled buffers, the
/// prompt strings), so large bodies take that step one at a time: a burst of them costs one body's
/// worth, not the burst's. When the last large request in flight ends, one compacting full
/// collection (at most once a second) hands the large object heap back to the operating system
/// instead of keeping it committed until the GC next needs a full collection.
/// </summary>
internal static class LargeBodies
{
    /// <summary>Bodies from this size on count as large.</summary>
    public const long Threshold = 1 << 20;

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly AsyncLocal<Turn?> Current = new();
    private static int _inFlight;
    private static long _lastCollect;

    /// <summary>Waits for the turn to parse a large body; null (no wait) for a small one.</summary>
    public static async Task<Turn?> EnterAsync(long? contentLength, CancellationToken cancellationToken)
    {
        if (!(contentLength >= Threshold)) return null;
        Interlocked.Increment(ref _inFlight);
        try
        {
            await Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Finish();
            throw;
        }
        return Current.Value = new Turn();
    }

    /// <summary>Called once a request's prompts are queued: parsing is over, the next large body may go.</summary>
    public static void Parsed() => Current.Value?.Release();

    private static void Finish()
    {
        if (Interlocked.Decrement(ref _inFlight) != 0) return;
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastCollect);
        if (now - last < 1000 || Interlocked.CompareExchange(ref _lastCollect, now, last) != last) return;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>A large request's turn: released when its prompts are queued or, failing that, when it ends.</summary>
    public sealed class Turn : IDisposable
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Gate.Release();
        }

        public void Dispose()
        {
            Release();
            Finish();
        }
    }
}
