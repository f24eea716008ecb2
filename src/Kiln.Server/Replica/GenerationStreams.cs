using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Kiln.Engine.Serving;

namespace Kiln.Server.Replica;

/// <summary>Interleaves the events of several sequences (choices) in arrival order.</summary>
internal static class GenerationStreams
{
    public static async IAsyncEnumerable<(int Index, GenerationEvent Event)> Merge(
        IReadOnlyList<Generation> generations, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (generations.Count == 1)
        {
            await foreach (var e in generations[0].Events.ReadAllAsync(cancellationToken)) yield return (0, e);
            yield break;
        }
        var merged = Channel.CreateUnbounded<(int, GenerationEvent)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = generations.Select(async (g, i) =>
        {
            await foreach (var e in g.Events.ReadAllAsync(cancellationToken)) merged.Writer.TryWrite((i, e));
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.InnerException),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await foreach (var item in merged.Reader.ReadAllAsync(cancellationToken)) yield return item;
    }
}
