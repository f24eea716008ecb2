using System.Threading.Channels;
using Kiln.Engine.Serving;

namespace Kiln.Server.Replica;

/// <summary>
/// The events of a request's sequences (choices) in arrival order, read in batches: wait with
/// <see cref="WaitToReadAsync"/>, then take everything ready with <see cref="TryRead"/>, so a
/// handler that fell behind catches up with one wake-up and one flush.
/// </summary>
internal sealed class GenerationStreams
{
    private readonly ChannelReader<GenerationEvent>? _single;
    private readonly ChannelReader<(int, GenerationEvent)>? _merged;

    /// <summary>
    /// A request's streams. Cancelling <paramref name="cancellationToken"/> ends the sequences, whose
    /// readers then fail with <see cref="OperationCanceledException"/>: the waits themselves take no
    /// token, which would cost a registration per token.
    /// </summary>
    public GenerationStreams(IReadOnlyList<Generation> generations, CancellationToken cancellationToken)
    {
        if (generations.Count == 1)
        {
            _single = generations[0].Events;
            return;
        }
        var merged = Channel.CreateUnbounded<(int, GenerationEvent)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = generations.Select(async (g, i) =>
        {
            await foreach (var e in g.Events.ReadAllAsync(cancellationToken)) merged.Writer.TryWrite((i, e));
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.InnerException),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _merged = merged.Reader;
    }

    /// <summary>True once an event is ready, false when every stream has ended; throws a stream's failure.</summary>
    public ValueTask<bool> WaitToReadAsync() => _single?.WaitToReadAsync() ?? _merged!.WaitToReadAsync();

    public bool TryRead(out int index, out GenerationEvent e)
    {
        index = 0;
        if (_single is not null) return _single.TryRead(out e!);
        var read = _merged!.TryRead(out var item);
        (index, e) = item;
        return read;
    }
}
