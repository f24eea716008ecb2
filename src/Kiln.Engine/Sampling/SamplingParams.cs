namespace Kiln.Engine.Sampling;

/// <summary>
/// How to pick the next token. Defaults sample the plain softmax (temperature 1, no filters).
/// Filters (top_k, top_p, min_p) act on the untempered distribution and temperature on the
/// survivors, in llama.cpp's order.
/// </summary>
public sealed record SamplingParams
{
    public const int MaxTopLogprobs = 20;

    /// <summary>0 means greedy (argmax, ties to the lowest id).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens; 0 disables.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose mass reaches top_p; 1 disables.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens whose probability is below min_p times the top token's; 0 disables.</summary>
    public float MinP { get; init; }

    /// <summary>llama.cpp-style repetition penalty over the last <see cref="RepetitionLastN"/> tokens; 1 disables.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Window of the repetition penalty, counting prompt and generated tokens.</summary>
    public int RepetitionLastN { get; init; } = 64;

    /// <summary>OpenAI-style: subtracted once from every token already generated.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI-style: subtracted per occurrence of a token already generated.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Token id to additive bias; -100 or less bans the token.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Makes sampling reproducible; null seeds from the OS.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Report the chosen token's logprob.</summary>
    public bool Logprobs { get; init; }

    /// <summary>How many alternatives to report per position (0..20).</summary>
    public int TopLogprobs { get; init; }

    public static SamplingParams Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the offending field (OpenAI spelling).</summary>
    public void Validate(int vocabSize)
    {
        if (!(Temperature >= 0f && Temperature <= 100f)) throw Bad("temperature", "must be between 0 and 100");
        if (TopK < 0) throw Bad("top_k", "must be >= 0");
        if (!(TopP > 0f && TopP <= 1f)) throw Bad("top_p", "must be in (0, 1]");
        if (!(MinP >= 0f && MinP <= 1f)) throw Bad("min_p", "must be in [0, 1]");
        if (!(RepetitionPenalty > 0f && float.IsFinite(RepetitionPenalty))) throw Bad("repetition_penalty", "must be > 0");
        if (RepetitionLastN < 0) throw Bad("repetition_last_n", "must be >= 0");
        if (!float.IsFinite(PresencePenalty)) throw Bad("presence_penalty", "must be finite");
        if (!float.IsFinite(FrequencyPenalty)) throw Bad("frequency_penalty", "must be finite");
        if (TopLogprobs is < 0 or > MaxTopLogprobs) throw Bad("top_logprobs", $"must be between 0 and {MaxTopLogprobs}");
        if (LogitBias is not null)
            foreach (var (id, bias) in LogitBias)
            {
                if (id < 0 || id >= vocabSize) throw Bad("logit_bias", $"token id {id} is outside the vocabulary (0..{vocabSize - 1})");
                if (float.IsNaN(bias)) throw Bad("logit_bias", "bias must be a number");
            }
    }

    private static ArgumentOutOfRangeException Bad(string field, string why) => new(field, $"{field} {why}");
}
