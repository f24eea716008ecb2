using Kiln.Engine.Lora;
using Kiln.Engine.Sampling;

namespace Kiln.Engine.Serving;

/// <summary>One sequence to generate: a tokenized prompt and how to continue it.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptTokens)
{
    /// <summary>Upper bound on generated tokens; null runs to the end of the context.</summary>
    public int? MaxTokens { get; init; }

    public SamplingParams Sampling { get; init; } = new();

    /// <summary>Generation stops before the first of these strings; it is not part of the output.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>
    /// End-of-sequence and end-of-generation tokens do not end the sequence, which runs to
    /// <see cref="MaxTokens"/> (or a stop string); such tokens are fed back like any other.
    /// </summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// True hands output over as it is released, an event per step that releases any; false hands
    /// it over once, in the finishing event. A caller that only collects the whole result
    /// (<see cref="Generation.CollectAsync"/>) then wakes once per sequence instead of once per token.
    /// </summary>
    public bool Stream { get; init; } = true;

    /// <summary>Report logprobs for the prompt's own tokens (echo), the first being null.</summary>
    public bool PromptLogprobs { get; init; }

    /// <summary>
    /// Adapters registered with the model (<see cref="IAdapterHost"/>) to run this sequence with;
    /// null runs the base model. The caller keeps them registered until <see cref="Generation.Finished"/>.
    /// </summary>
    public LoraSet? Adapters { get; init; }
}
