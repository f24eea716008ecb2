namespace Kiln.Engine.Serving;

/// <summary>
/// Output released by one step of one sequence. Text is always whole characters and never part of
/// a stop string. The last event of a sequence carries <see cref="Finish"/>.
/// </summary>
public sealed record GenerationEvent(
    string Text,
    IReadOnlyList<LogprobEntry>? Logprobs,
    FinishReason? Finish,
    int CompletionTokens)
{
    /// <summary>Set once, on the event emitted when the prompt has been scored (echo).</summary>
    public IReadOnlyList<LogprobEntry>? PromptLogprobs { get; init; }
}
