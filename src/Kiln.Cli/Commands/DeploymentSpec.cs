using Kiln.Core.Time;
using System.Text.Json.Nodes;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>The deployment spec flags as the user typed them; null means "not given".</summary>
public sealed record DeploymentSpecInput
{
    public string? DisplayName { get; init; }
    public string? Description { get; init; }
    public string? LoadTargets { get; init; }
    public string? MinReplicaCount { get; init; }
    public string? MaxReplicaCount { get; init; }
    public string? ScaleUpWindow { get; init; }
    public string? ScaleDownWindow { get; init; }
    public string? ScaleToZeroWindow { get; init; }
    public string? UnusedAutoDeleteDuration { get; init; }
    public string? WorldSize { get; init; }
    public string? AcceleratorType { get; init; }
    public string? Precision { get; init; }
    public bool? EnableAddons { get; init; }
    public string? MaxAddonCount { get; init; }
    public string? Engine { get; init; }
    public IReadOnlyList<string>? EngineArgs { get; init; }
    public string? DraftModel { get; init; }
    public string? DraftTokenCount { get; init; }
    public string? NgramSpeculationLength { get; init; }
    public string? DeploymentShape { get; init; }
    public string? PrefixCacheMb { get; init; }
}

/// <summary>
/// Turns spec flags into the API's JSON. Only flags the user gave are sent: on create the server
/// applies Fireworks' defaults, on update absent fields keep their value.
/// </summary>
public static class DeploymentSpec
{
    public static JsonObject Build(DeploymentSpecInput input)
    {
        var errors = new List<string>();
        var body = new JsonObject();
        if (input.DisplayName is not null)
            body["displayName"] = input.DisplayName;
        if (input.Description is not null)
            body["description"] = input.Description;

        var min = Try(errors, () => input.MinReplicaCount is { } s ? FlagValues.Count("--min-replica-count", s) : (int?)null);
        var max = Try(errors, () => input.MaxReplicaCount is { } s ? FlagValues.Count("--max-replica-count", s) : (int?)null);
        if (min is not null)
            body["minReplicaCount"] = min.Value;
        if (max is not null)
            body["maxReplicaCount"] = max.Value;
        if (min is not null && max is not null && max < min)
            errors.Add($"--max-replica-count ({max}) must not be less than --min-replica-count ({min})");

        var policy = new JsonObject();
        AddDuration(errors, policy, "scaleUpWindow", "--scale-up-window", input.ScaleUpWindow);
        AddDuration(errors, policy, "scaleDownWindow", "--scale-down-window", input.ScaleDownWindow);
        AddDuration(errors, policy, "scaleToZeroWindow", "--scale-to-zero-window", input.ScaleToZeroWindow);
        var targets = Try(errors, () => input.LoadTargets is { } s ? FlagValues.LoadTargets("--load-targets", s) : null);
        if (targets is not null)
            policy["loadTargets"] = targets;
        if (policy.Count > 0)
            body["autoscalingPolicy"] = policy;
        AddDuration(errors, body, "unusedAutoDeleteDuration", "--unused-auto-delete-duration", input.UnusedAutoDeleteDuration);

        var acceleratorType = Try(errors, () => input.AcceleratorType is { } s ? FlagValues.AcceleratorType("--accelerator-type", s) : null);
        if (acceleratorType is not null)
            body["acceleratorType"] = acceleratorType;
        var worldSize = Try(errors, () => input.WorldSize is { } s ? FlagValues.WorldSize("--world-size", s) : (int?)null);
        if (worldSize is not null)
            body["acceleratorCount"] = worldSize.Value;
        if (input.EnableAddons is { } addons)
            body["enableAddons"] = addons;
        var maxAddons = Try(errors, () => input.MaxAddonCount is { } s
            ? FlagValues.Between("--max-addon-count", s, 1, Core.Deployments.DeploymentDefaults.MaxAddonCountLimit) : (int?)null);
        if (maxAddons is not null)
            body["maxAddonCount"] = maxAddons.Value;
        var precision = Try(errors, () => input.Precision is { } s ? FlagValues.Precision("--precision", s) : null);
        if (precision is not null)
            body["precision"] = precision;

        if (input.Engine is { } engine)
        {
            if (Kiln.Core.Engines.EngineCatalog.IsValidName(engine))
                body["engine"] = engine;
            else
                errors.Add($"--engine: \"{engine}\" is not an engine name (lowercase letters, digits and '-', starting with a letter), e.g. kiln, vllm, sglang, llama-server");
        }
        if (input.EngineArgs is { } engineArgs)
            body["engineArgs"] = new JsonArray([.. engineArgs.Where(a => a.Length > 0).Select(a => (JsonNode)JsonValue.Create(a))]);
        // Speculation: the server checks the combination (and the draft model's tokenizer).
        if (input.DraftModel is not null)
            body["draftModel"] = input.DraftModel;
        var draftTokens = Try(errors, () => input.DraftTokenCount is { } s
            ? FlagValues.UpTo("--draft-token-count", s, Core.Deployments.Speculation.MaxDraftTokens) : (int?)null);
        if (draftTokens is not null)
            body["draftTokenCount"] = draftTokens.Value;
        var ngram = Try(errors, () => input.NgramSpeculationLength is { } s
            ? FlagValues.UpTo("--ngram-speculation-length", s, Core.Deployments.Speculation.MaxNgramLength) : (int?)null);
        if (ngram is not null)
            body["ngramSpeculationLength"] = ngram.Value;

        // The server resolves the shape and says which flags contradict it.
        if (input.DeploymentShape is { } shape)
        {
            if (shape.Length == 0 || Kiln.Core.Shapes.ShapeName.TryParse(shape, out _, out var shapeError))
                body["deploymentShape"] = shape;
            else
                errors.Add($"--deployment-shape: {shapeError}");
        }
        var prefixCache = Try(errors, () => input.PrefixCacheMb is { } s
            ? FlagValues.UpTo("--prefix-cache-mb", s, Core.Replicas.ReplicaArgs.MaxPrefixCacheMb) : (int?)null);
        if (prefixCache is not null)
            body["prefixCacheMb"] = prefixCache.Value;

        if (errors.Count > 0)
            throw new UsageException(string.Join('\n', errors));
        return body;
    }

    private static void AddDuration(List<string> errors, JsonObject target, string field, string flag, string? text)
    {
        if (text is null)
            return;
        var ns = Try(errors, () => (long?)FlagValues.Duration(flag, text));
        if (ns is not null)
            target[field] = ProtoDuration.Format(GoDuration.FromNanoseconds(ns.Value));
    }

    // Collects every bad flag instead of stopping at the first, so one run reports them all.
    private static T? Try<T>(List<string> errors, Func<T?> parse)
    {
        try
        {
            return parse();
        }
        catch (UsageException e)
        {
            errors.Add(e.Message);
            return default;
        }
    }
}
