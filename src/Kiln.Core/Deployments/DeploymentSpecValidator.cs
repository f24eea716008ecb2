using System.Globalization;
using Kiln.Core.Errors;
using Kiln.Core.Names;
using Kiln.Core.Time;

namespace Kiln.Core.Deployments;

/// <summary>Checks a <see cref="DeploymentSpec"/> and reports every problem, each with its field.</summary>
/// <remarks>
/// Rules: baseModel is a model name; displayName at most 256 characters; 0 ≤ min ≤ 100;
/// 1 ≤ max ≤ 100 and max ≥ min (a deployment that may never run a replica is a mistake, and
/// Fireworks' default of max(min, 1) implies it); windows and unusedAutoDeleteDuration are not
/// negative; loadTargets is non-empty with known keys, "default" in (0, 1] and the others positive;
/// acceleratorCount is 1, 2, 4 or 8; maxAddonCount, when set, is
/// 1 to 1000; speculation as <see cref="Speculation.Validate"/> says.
/// </remarks>
public static class DeploymentSpecValidator
{
    /// <summary>Every violation, in field order; empty when the spec is valid.</summary>
    public static IReadOnlyList<FieldViolation> Validate(DeploymentSpec spec)
    {
        var v = new List<FieldViolation>();
        if (string.IsNullOrEmpty(spec.BaseModel))
        {
            v.Add(new("baseModel", "is required"));
        }
        else if (!ModelName.TryParse(spec.BaseModel, out _, out var error))
        {
            v.Add(new("baseModel", error));
        }
        if (spec.Description is { Length: > DeploymentDefaults.MaxDescriptionLength } description)
        {
            v.Add(new("description", $"is {description.Length} characters long; at most {DeploymentDefaults.MaxDescriptionLength} are allowed"));
        }
        if (spec.DisplayName is { Length: > DeploymentDefaults.MaxDisplayNameLength } name)
        {
            v.Add(new("displayName", $"is {name.Length} characters long; at most {DeploymentDefaults.MaxDisplayNameLength} are allowed"));
        }

        const int limit = DeploymentDefaults.ReplicaLimit;
        if (spec.MinReplicaCount is < 0 or > limit)
        {
            v.Add(new("minReplicaCount", $"must be between 0 and {limit}, got {spec.MinReplicaCount}"));
        }
        if (spec.MaxReplicaCount < 1)
        {
            v.Add(new("maxReplicaCount", $"must be at least 1, got {spec.MaxReplicaCount}"));
        }
        else if (spec.MaxReplicaCount > limit)
        {
            v.Add(new("maxReplicaCount", $"must be at most {limit}, got {spec.MaxReplicaCount}"));
        }
        else if (spec.MaxReplicaCount < spec.MinReplicaCount)
        {
            v.Add(new("maxReplicaCount", $"must be at least minReplicaCount ({spec.MinReplicaCount}), got {spec.MaxReplicaCount}"));
        }

        var policy = spec.AutoscalingPolicy;
        NonNegative(v, "autoscalingPolicy.scaleUpWindow", policy.ScaleUpWindow);
        NonNegative(v, "autoscalingPolicy.scaleDownWindow", policy.ScaleDownWindow);
        NonNegative(v, "autoscalingPolicy.scaleToZeroWindow", policy.ScaleToZeroWindow);
        ValidateLoadTargets(v, policy.LoadTargets);
        NonNegative(v, "unusedAutoDeleteDuration", spec.UnusedAutoDeleteDuration);

        if (!Enum.IsDefined(spec.AcceleratorType))
        {
            v.Add(new("acceleratorType", $"unknown accelerator type {(int)spec.AcceleratorType}; known: {string.Join(", ", AcceleratorTypes.WireNames)}"));
        }
        if (spec.AcceleratorCount is not (1 or 2 or 4 or 8))
        {
            v.Add(new("acceleratorCount", $"must be 1, 2, 4 or 8, got {spec.AcceleratorCount}"));
        }
        if (spec.MaxAddonCount is < 1 or > DeploymentDefaults.MaxAddonCountLimit)
        {
            v.Add(new("maxAddonCount", $"must be between 1 and {DeploymentDefaults.MaxAddonCountLimit}, got {spec.MaxAddonCount}"));
        }
        if (!Enum.IsDefined(spec.Precision))
        {
            v.Add(new("precision", $"unknown precision {(int)spec.Precision}; known: {string.Join(", ", Precisions.WireNames)}"));
        }
        if (!Engines.EngineCatalog.IsValidName(spec.Engine))
        {
            v.Add(new("engine", $"\"{spec.Engine}\" is not an engine name (lowercase letters, digits and '-', starting with a letter)"));
        }
        if (spec.EngineArgs.Count > DeploymentDefaults.MaxEngineArgs)
        {
            v.Add(new("engineArgs", $"holds {spec.EngineArgs.Count} arguments; at most {DeploymentDefaults.MaxEngineArgs} are allowed"));
        }
        for (var i = 0; i < spec.EngineArgs.Count; i++)
        {
            if (spec.EngineArgs[i].Length is 0 or > DeploymentDefaults.MaxEngineArgLength || spec.EngineArgs[i].Contains('\0') || spec.EngineArgs[i].Contains('\n'))
            {
                v.Add(new($"engineArgs[{i}]", $"must be 1 to {DeploymentDefaults.MaxEngineArgLength} characters without NUL or newline"));
            }
        }
        ServingLimits.Validate(v, "", spec.MaxBatchSize, spec.MaxContextLength, spec.PrefixCacheMb);
        if (spec.PrefixCacheMb is not null && spec.Engine != Engines.EngineProfiles.KilnName)
        {
            v.Add(new("prefixCacheMb", $"is a setting of Kiln's engine; engine \"{spec.Engine}\" takes its own cache flags in engineArgs"));
        }
        v.AddRange(Speculation.Validate(spec));
        return v;
    }

    /// <summary>Throws INVALID_ARGUMENT listing every violation, unless the spec is valid.</summary>
    public static void EnsureValid(DeploymentSpec spec)
    {
        var violations = Validate(spec);
        if (violations.Count > 0)
        {
            throw KilnError.InvalidArgument(violations);
        }
    }

    private static void NonNegative(List<FieldViolation> v, string field, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            v.Add(new(field, $"must not be negative, got {GoDuration.Format(value)}"));
        }
    }

    private static void ValidateLoadTargets(List<FieldViolation> v, IReadOnlyDictionary<string, double> targets)
    {
        const string field = "autoscalingPolicy.loadTargets";
        if (targets.Count == 0)
        {
            v.Add(new(field, "must name at least one target"));
            return;
        }
        foreach (var (key, value) in targets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var text = value.ToString(CultureInfo.InvariantCulture);
            if (!LoadTargets.Keys.Contains(key))
            {
                v.Add(new(field, $"unknown target \"{key}\"; known: {string.Join(", ", LoadTargets.Keys)}"));
            }
            else if (key == LoadTargets.Default)
            {
                if (!(value > 0 && value <= 1))
                {
                    v.Add(new($"{field}.{key}", $"must be a fraction in (0, 1], got {text}"));
                }
            }
            else if (!(value > 0 && double.IsFinite(value)))
            {
                v.Add(new($"{field}.{key}", $"must be a positive number, got {text}"));
            }
        }
    }
}
