using Kiln.Engine.Models;

namespace Kiln.Engine.Serving.Speculation;

/// <summary>
/// Speculative decoding of a scheduler: each step proposes up to <see cref="DraftTokens"/> tokens per
/// decoding sequence, from a <see cref="DraftModel"/> or by n-gram lookup in the sequence's own
/// tokens (<see cref="NgramLength"/>), and the target model verifies them all in one pass.
/// </summary>
public sealed record SpeculationOptions
{
    /// <summary>Tokens proposed per sequence and step (Fireworks' <c>draftTokenCount</c>).</summary>
    public required int DraftTokens { get; init; }

    /// <summary>
    /// Prompt lookup: the length of the n-gram matched against the sequence's earlier tokens
    /// (Fireworks' <c>ngramSpeculationLength</c>); null when a draft model proposes.
    /// </summary>
    public int? NgramLength { get; init; }

    /// <summary>
    /// A smaller model over the same vocabulary that proposes; null for n-gram speculation. The caller
    /// owns it; it needs as many slots as the scheduler's batch and room for the target's context.
    /// </summary>
    public ILanguageModel? DraftModel { get; init; }

    /// <summary>Most draft tokens allowed per step and sequence.</summary>
    public const int MaxDraftTokens = 16;

    /// <summary>Longest n-gram matched.</summary>
    public const int MaxNgramLength = 16;

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public void Validate()
    {
        if (DraftTokens is < 1 or > MaxDraftTokens)
            throw new ArgumentOutOfRangeException(nameof(DraftTokens), DraftTokens, $"draft tokens must be between 1 and {MaxDraftTokens}");
        if ((NgramLength is null) == (DraftModel is null))
            throw new ArgumentException("speculation needs exactly one of a draft model and an n-gram length");
        if (NgramLength is < 1 or > MaxNgramLength)
            throw new ArgumentOutOfRangeException(nameof(NgramLength), NgramLength, $"the n-gram length must be between 1 and {MaxNgramLength}");
    }

    /// <summary>Rows one step may hold: every sequence's decode row and drafts, plus a prefill chunk.</summary>
    public static int RowsPerStep(int maxBatchSize, int prefillChunk, SpeculationOptions? speculation) =>
        maxBatchSize * (1 + (speculation?.DraftTokens ?? 0)) + prefillChunk;
}
