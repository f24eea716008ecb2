namespace Kiln.Engine.Serving;

/// <summary>
/// Output released by one step of one sequence. Text is always whole characters and never part of
/// a stop string. The last event of a sequence carries <see cref="Finish"/>. A struct, so a streamed
/// token costs no allocation on its way through the sequence's channel.
/// </summary>
public readonly record struct GenerationEvent(
    string Text,
    IReadOnlyList<LogprobEntry>? Logprobs,
    FinishReason? Finish,
    int CompletionTokens)
{
    /// <summary>Set once, on the event emitted when the prompt has been scored (echo).</summary>
    public IReadOnlyList<LogprobEntry>? PromptLogprobs { get; init; }
}
