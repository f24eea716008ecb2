using System.Text;
using System.Threading.Channels;

namespace Kiln.Engine.Serving;

/// <summary>The whole output of a finished sequence.</summary>
public sealed record GenerationResult(
    string Text,
    FinishReason Finish,
    int PromptTokens,
    int CompletionTokens,
    IReadOnlyList<LogprobEntry>? Logprobs,
    IReadOnlyList<LogprobEntry>? PromptLogprobs);

/// <summary>
/// A submitted sequence. Read <see cref="Events"/> to stream, or <see cref="CollectAsync"/> for
/// the whole result. The reader throws <see cref="OperationCanceledException"/> if the request was
/// cancelled and the model's exception if the forward pass failed.
/// </summary>
public sealed class Generation
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Generation(int promptTokens, ChannelReader<GenerationEvent> events)
    {
        PromptTokens = promptTokens;
        Events = events;
    }

    /// <summary>
    /// Completes once the scheduler will never run this sequence again (finished, failed or
    /// cancelled), whether or not its events were read: resources it uses, such as adapters, may go then.
    /// </summary>
    public Task Finished => _finished.Task;

    internal void MarkFinished(int promptTokensProcessed, int completionTokens)
    {
        PromptTokensProcessed = promptTokensProcessed;
        CompletionTokens = completionTokens;
        _finished.TrySetResult();
    }

    public int PromptTokens { get; }

    /// <summary>
    /// Prompt tokens the model read before the sequence ended: all of them once it generated, fewer
    /// (or none) when it was cancelled or failed while prefilling or waiting. Final once <see cref="Finished"/> completes.
    /// </summary>
    public int PromptTokensProcessed { get; private set; }

    /// <summary>
    /// Tokens sampled however the sequence ended (finished, cancelled or failed), so every generated
    /// token can be billed. Final once <see cref="Finished"/> completes.
    /// </summary>
    public int CompletionTokens { get; private set; }

    public ChannelReader<GenerationEvent> Events { get; }

    public async Task<GenerationResult> CollectAsync(CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        List<LogprobEntry>? logprobs = null;
        IReadOnlyList<LogprobEntry>? promptLogprobs = null;
        await foreach (var e in Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            text.Append(e.Text);
            if (e.Logprobs is not null) (logprobs ??= []).AddRange(e.Logprobs);
            if (e.PromptLogprobs is not null) promptLogprobs = e.PromptLogprobs;
            if (e.Finish is { } finish)
            {
                if (promptLogprobs is not null) logprobs ??= [];
                return new GenerationResult(text.ToString(), finish, PromptTokens, e.CompletionTokens, logprobs, promptLogprobs);
            }
        }
        throw new InvalidOperationException("the generation ended without a finish event");
    }
}
