using Kiln.Core.Errors;

namespace Kiln.Core.Deployments;

/// <summary>Creating and updating deployment specs: defaults, PATCH merging and validation.</summary>
public static class DeploymentSpecs
{
    /// <summary>Field-mask paths understood by <see cref="Merge"/> (camelCase; snake_case is accepted too).</summary>
    public static IReadOnlyList<string> MaskPaths { get; } =
    [
        "baseModel", "displayName", "description", "minReplicaCount", "maxReplicaCount", "autoscalingPolicy",
        "autoscalingPolicy.scaleUpWindow", "autoscalingPolicy.scaleDownWindow",
        "autoscalingPolicy.scaleToZeroWindow", "autoscalingPolicy.loadTargets",
        "unusedAutoDeleteDuration", "acceleratorType", "acceleratorCount", "enableAddons", "maxAddonCount",
        "precision", "engine", "engineArgs", "draftModel", "draftTokenCount", "ngramSpeculationLength",
        "deploymentShape", "prefixCacheMb",
    ];

    /// <summary>
    /// The spec a create request asks for, with Fireworks' defaults for what it leaves out
    /// (maxReplicaCount defaults to max(minReplicaCount, 1)); throws INVALID_ARGUMENT listing every
    /// problem. <paramref name="defaultAccelerator"/> is the type a request naming none gets.
    /// </summary>
    public static DeploymentSpec Create(DeploymentSpecPatch request, AcceleratorType defaultAccelerator = DeploymentDefaults.Accelerator)
    {
        var spec = ApplyDefaults(request, defaultAccelerator);
        DeploymentSpecValidator.EnsureValid(spec);
        return spec;
    }

    /// <summary>
    /// PATCH: <paramref name="current"/> changed by <paramref name="patch"/>, then validated; throws
    /// INVALID_ARGUMENT listing every problem. See <see cref="Merge"/> for the rules.
    /// </summary>
    public static DeploymentSpec Update(DeploymentSpec current, DeploymentSpecPatch patch, IReadOnlyCollection<string>? updateMask = null,
        AcceleratorType defaultAccelerator = DeploymentDefaults.Accelerator)
    {
        var (spec, violations) = Merge(current, patch, updateMask, defaultAccelerator);
        var all = violations.Concat(DeploymentSpecValidator.Validate(spec)).ToList();
        if (all.Count > 0)
        {
            throw KilnError.InvalidArgument(all);
        }
        return spec;
    }

    /// <summary>The request with defaults filled in; not validated.</summary>
    public static DeploymentSpec ApplyDefaults(DeploymentSpecPatch request, AcceleratorType defaultAccelerator = DeploymentDefaults.Accelerator)
    {
        var min = request.MinReplicaCount ?? DeploymentDefaults.MinReplicaCount;
        var policy = request.AutoscalingPolicy;
        return new DeploymentSpec
        {
            BaseModel = request.BaseModel ?? "",
            DisplayName = EmptyToNull(request.DisplayName),
            Description = EmptyToNull(request.Description),
            MinReplicaCount = min,
            MaxReplicaCount = request.MaxReplicaCount ?? DeploymentDefaults.MaxReplicaCountFor(min),
            AutoscalingPolicy = new AutoscalingPolicy
            {
                ScaleUpWindow = policy?.ScaleUpWindow ?? DeploymentDefaults.ScaleUpWindow,
                ScaleDownWindow = policy?.ScaleDownWindow ?? DeploymentDefaults.ScaleDownWindow,
                ScaleToZeroWindow = policy?.ScaleToZeroWindow ?? DeploymentDefaults.ScaleToZeroWindow,
                LoadTargets = Copy(policy?.LoadTargets) ?? DeploymentDefaults.LoadTargets,
            },
            UnusedAutoDeleteDuration = request.UnusedAutoDeleteDuration ?? DeploymentDefaults.UnusedAutoDeleteDuration,
            AcceleratorType = request.AcceleratorType ?? defaultAccelerator,
            AcceleratorCount = request.AcceleratorCount ?? DeploymentDefaults.AcceleratorCount,
            EnableAddons = request.EnableAddons ?? false,
            MaxAddonCount = request.MaxAddonCount,
            Precision = request.Precision ?? DeploymentDefaults.Precision,
            Engine = request.Engine ?? DeploymentDefaults.Engine,
            EngineArgs = request.EngineArgs is { } args ? [.. args] : [],
            DraftModel = EmptyToNull(request.DraftModel),
            DraftTokenCount = ZeroToNull(request.DraftTokenCount),
            NgramSpeculationLength = ZeroToNull(request.NgramSpeculationLength),
            DeploymentShape = EmptyToNull(request.DeploymentShape),
            MaxBatchSize = request.MaxBatchSize,
            MaxContextLength = request.MaxContextLength,
            PrefixCacheMb = request.PrefixCacheMb,
        };
    }

    /// <summary>
    /// Merges a PATCH without validating the result. Without a mask, every non-null field of
    /// <paramref name="patch"/> replaces the current value. With a mask, exactly the masked fields
    /// change: to the patch's value, or back to the default when the patch leaves them null
    /// ("autoscalingPolicy" covers all four of its fields). maxReplicaCount is not re-derived from
    /// a new min unless masked, so raising min above max is reported rather than silently widened.
    /// Unknown mask paths and a changed baseModel are returned as violations.
    /// </summary>
    public static (DeploymentSpec Spec, IReadOnlyList<FieldViolation> Violations) Merge(
        DeploymentSpec current, DeploymentSpecPatch patch, IReadOnlyCollection<string>? updateMask = null,
        AcceleratorType defaultAccelerator = DeploymentDefaults.Accelerator)
    {
        var violations = new List<FieldViolation>();
        HashSet<string>? mask = null;
        if (updateMask is not null)
        {
            mask = [];
            var known = MaskPaths.Select(Normalize).ToHashSet();
            foreach (var path in updateMask)
            {
                var n = Normalize(path);
                if (!known.Contains(n))
                {
                    violations.Add(new("updateMask", $"unknown field \"{path}\"; known: {string.Join(", ", MaskPaths)}"));
                }
                mask.Add(n);
            }
        }

        bool Touched(string path, bool present) =>
            mask is null ? present : mask.Contains(Normalize(path)) || (path.StartsWith("autoscalingPolicy.", StringComparison.Ordinal) && mask.Contains("autoscalingpolicy"));

        if (Touched("baseModel", patch.BaseModel is not null) && patch.BaseModel != current.BaseModel)
        {
            violations.Add(new("baseModel", $"cannot change after creation (is \"{current.BaseModel}\", requested \"{patch.BaseModel}\")"));
        }

        var min = Touched("minReplicaCount", patch.MinReplicaCount is not null)
            ? patch.MinReplicaCount ?? DeploymentDefaults.MinReplicaCount
            : current.MinReplicaCount;
        var max = Touched("maxReplicaCount", patch.MaxReplicaCount is not null)
            ? patch.MaxReplicaCount ?? DeploymentDefaults.MaxReplicaCountFor(min)
            : current.MaxReplicaCount;

        var p = patch.AutoscalingPolicy;
        var cp = current.AutoscalingPolicy;
        var policy = new AutoscalingPolicy
        {
            ScaleUpWindow = Touched("autoscalingPolicy.scaleUpWindow", p?.ScaleUpWindow is not null)
                ? p?.ScaleUpWindow ?? DeploymentDefaults.ScaleUpWindow : cp.ScaleUpWindow,
            ScaleDownWindow = Touched("autoscalingPolicy.scaleDownWindow", p?.ScaleDownWindow is not null)
                ? p?.ScaleDownWindow ?? DeploymentDefaults.ScaleDownWindow : cp.ScaleDownWindow,
            ScaleToZeroWindow = Touched("autoscalingPolicy.scaleToZeroWindow", p?.ScaleToZeroWindow is not null)
                ? p?.ScaleToZeroWindow ?? DeploymentDefaults.ScaleToZeroWindow : cp.ScaleToZeroWindow,
            LoadTargets = Touched("autoscalingPolicy.loadTargets", p?.LoadTargets is not null)
                ? Copy(p?.LoadTargets) ?? DeploymentDefaults.LoadTargets : cp.LoadTargets,
        };

        var spec = current with
        {
            DisplayName = Touched("displayName", patch.DisplayName is not null) ? EmptyToNull(patch.DisplayName) : current.DisplayName,
            Description = Touched("description", patch.Description is not null) ? EmptyToNull(patch.Description) : current.Description,
            MinReplicaCount = min,
            MaxReplicaCount = max,
            AutoscalingPolicy = policy,
            UnusedAutoDeleteDuration = Touched("unusedAutoDeleteDuration", patch.UnusedAutoDeleteDuration is not null)
                ? patch.UnusedAutoDeleteDuration ?? DeploymentDefaults.UnusedAutoDeleteDuration : current.UnusedAutoDeleteDuration,
            AcceleratorType = Touched("acceleratorType", patch.AcceleratorType is not null)
                ? patch.AcceleratorType ?? defaultAccelerator : current.AcceleratorType,
            AcceleratorCount = Touched("acceleratorCount", patch.AcceleratorCount is not null)
                ? patch.AcceleratorCount ?? DeploymentDefaults.AcceleratorCount : current.AcceleratorCount,
            EnableAddons = Touched("enableAddons", patch.EnableAddons is not null)
                ? patch.EnableAddons ?? false : current.EnableAddons,
            // Masked without a value: back to the server's default.
            MaxAddonCount = Touched("maxAddonCount", patch.MaxAddonCount is not null) ? patch.MaxAddonCount : current.MaxAddonCount,
            Precision = Touched("precision", patch.Precision is not null)
                ? patch.Precision ?? DeploymentDefaults.Precision : current.Precision,
            Engine = Touched("engine", patch.Engine is not null)
                ? patch.Engine ?? DeploymentDefaults.Engine : current.Engine,
            EngineArgs = Touched("engineArgs", patch.EngineArgs is not null)
                ? [.. patch.EngineArgs ?? []] : current.EngineArgs,
            DraftModel = Touched("draftModel", patch.DraftModel is not null) ? EmptyToNull(patch.DraftModel) : current.DraftModel,
            DraftTokenCount = Touched("draftTokenCount", patch.DraftTokenCount is not null)
                ? ZeroToNull(patch.DraftTokenCount) : current.DraftTokenCount,
            NgramSpeculationLength = Touched("ngramSpeculationLength", patch.NgramSpeculationLength is not null)
                ? ZeroToNull(patch.NgramSpeculationLength) : current.NgramSpeculationLength,
            PrefixCacheMb = Touched("prefixCacheMb", patch.PrefixCacheMb is not null) ? patch.PrefixCacheMb : current.PrefixCacheMb,
        };
        // A new shape (or none) brings its own engine settings: those it leaves out go back to the defaults.
        if (Touched("deploymentShape", patch.DeploymentShape is not null))
        {
            spec = spec with
            {
                DeploymentShape = EmptyToNull(patch.DeploymentShape),
                MaxBatchSize = patch.MaxBatchSize,
                MaxContextLength = patch.MaxContextLength,
            };
        }
        return (spec, violations);
    }

    /// <summary>
    /// True when going from <paramref name="before"/> to <paramref name="after"/> needs replicas
    /// restarted (model, accelerators, addon support, precision, engine, engine settings or speculation changed); replica counts,
    /// windows, targets, names and auto-delete apply in place. The store records the generation of
    /// such a change, and the reconciler then replaces the older replicas (new ones start first)
    /// instead of moving them onto the new generation.
    /// </summary>
    public static bool RequiresReplicaRestart(DeploymentSpec before, DeploymentSpec after) =>
        before.BaseModel != after.BaseModel
        || before.AcceleratorType != after.AcceleratorType
        || before.AcceleratorCount != after.AcceleratorCount
        || before.EnableAddons != after.EnableAddons
        || before.Precision != after.Precision
        || before.Engine != after.Engine
        || !before.EngineArgs.SequenceEqual(after.EngineArgs)
        || before.DraftModel != after.DraftModel
        || before.DraftTokenCount != after.DraftTokenCount
        || before.NgramSpeculationLength != after.NgramSpeculationLength
        || before.MaxBatchSize != after.MaxBatchSize
        || before.MaxContextLength != after.MaxContextLength
        || before.PrefixCacheMb != after.PrefixCacheMb;

    private static string Normalize(string path) => path.Replace("_", "").ToLowerInvariant();

    private static string? EmptyToNull(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // Protobuf's zero value: not set.
    private static int? ZeroToNull(int? n) => n == 0 ? null : n;

    private static IReadOnlyDictionary<string, double>? Copy(IReadOnlyDictionary<string, double>? map) =>
        map is null ? null : new Dictionary<string, double>(map).AsReadOnly();
}
