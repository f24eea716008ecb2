using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Core.Deployments;

/// <summary>
/// Speculative decoding of a deployment, in Fireworks' fields: <c>draftModel</c> (a model over the
/// same vocabulary that proposes) or <c>ngramSpeculationLength</c> (prompt lookup: the n-gram matched
/// in the sequence's own tokens), never both, and <c>draftTokenCount</c> (tokens proposed per step),
/// which either needs. Without them a deployment decodes one token per step.
/// </summary>
public static class Speculation
{
    /// <summary>Most draft tokens per step.</summary>
    public const int MaxDraftTokens = 16;

    /// <summary>Longest n-gram matched.</summary>
    public const int MaxNgramLength = 16;

    /// <summary>Whether <paramref name="spec"/> asks for speculation at all.</summary>
    public static bool IsEnabled(DeploymentSpec spec) =>
        spec.DraftModel is not null || spec.NgramSpeculationLength is not null || spec.DraftTokenCount is not null;

    /// <summary>The violations of the speculation fields, in field order.</summary>
    public static IReadOnlyList<FieldViolation> Validate(DeploymentSpec spec)
    {
        // A list, not an iterator: a compiled iterator reads Environment, which Core keeps out.
        var violations = new List<FieldViolation>();
        if (spec.DraftModel is { } draft && !ModelName.TryParse(draft, out _, out var error))
        {
            violations.Add(new("draftModel", error));
        }
        if (spec.DraftModel is not null && spec.NgramSpeculationLength is not null)
        {
            violations.Add(new("ngramSpeculationLength", "cannot be used together with draftModel: choose a draft model or n-gram speculation"));
        }
        if (spec.DraftTokenCount is { } count and (< 1 or > MaxDraftTokens))
        {
            violations.Add(new("draftTokenCount", $"must be between 1 and {MaxDraftTokens}, got {count}"));
        }
        if (spec.DraftTokenCount is null && (spec.DraftModel is not null || spec.NgramSpeculationLength is not null))
        {
            violations.Add(new("draftTokenCount", "is required with draftModel or ngramSpeculationLength (tokens proposed per step, typically 4)"));
        }
        if (spec.DraftTokenCount is not null && spec.DraftModel is null && spec.NgramSpeculationLength is null)
        {
            violations.Add(new("draftTokenCount", "needs draftModel or ngramSpeculationLength to propose the tokens"));
        }
        if (spec.NgramSpeculationLength is { } n and (< 1 or > MaxNgramLength))
        {
            violations.Add(new("ngramSpeculationLength", $"must be between 1 and {MaxNgramLength}, got {n}"));
        }
        if (IsEnabled(spec) && EngineRefusal(spec) is { } refusal)
        {
            violations.Add(new("draftTokenCount", refusal));
        }
        return violations;
    }

    /// <summary>
    /// Why the engine serving <paramref name="spec"/> cannot speculate, or null when it can: the one
    /// place that knows which engines speculate. Only Kiln's own engine reads these fields; other
    /// engines take their own speculation flags through <c>engineArgs</c>.
    /// </summary>
    public static string? EngineRefusal(DeploymentSpec spec) => spec.Engine == Engines.EngineProfiles.KilnName
        ? null
        : $"engine \"{spec.Engine}\" does not take Kiln's speculation settings; pass the engine's own speculation flags in engineArgs instead";
}
