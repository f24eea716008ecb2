namespace Kiln.Engine.Serving;

/// <summary>Limits of a <see cref="Scheduler"/>.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Sequences decoded together; capped by the model's slots.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>Context per sequence (prompt + output); capped by the model's context length. Null: the model's.</summary>
    public int? ContextSize { get; init; }

    /// <summary>Sequences allowed to wait for a slot before new requests are refused.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>Prompt tokens fed per step across all sequences, so long prompts do not stall decoding.</summary>
    public int PrefillChunk { get; init; } = 256;

    /// <summary>Bytes of saved prefix KV kept for reuse by later prompts (<see cref="PrefixCache"/>); 0 turns prefix caching off.</summary>
    public long PrefixCacheBytes { get; init; }

    /// <summary>Positions per prefix-cache block: prompts share whole blocks.</summary>
    public int PrefixBlockTokens { get; init; } = 16;
    /// <summary>Speculative decoding; null decodes one token per sequence and step.</summary>
    public Speculation.SpeculationOptions? Speculation { get; init; }
}
