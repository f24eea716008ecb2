using System.Globalization;
using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Time;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// Reads a deployment create or PATCH body into a <see cref="DeploymentSpecPatch"/>, reporting every
/// malformed field by its JSON path. Output-only fields (state, status, ...) are ignored so that a
/// client may send back what it read; unknown fields are errors.
/// </summary>
public static class DeploymentRequest
{
    private static readonly HashSet<string> OutputOnly =
    [
        "name", "state", "status", "desiredReplicaCount", "replicaCount", "replicaStats", "createTime",
        "updateTime", "deleteTime", "expireTime", "createdBy", "lastRequestTime", "events", "replicas",
        // Set by the deployment's shape.
        "maxBatchSize", "maxContextLength",
    ];

    /// <summary>The patch; throws INVALID_ARGUMENT listing every bad field.</summary>
    public static DeploymentSpecPatch Parse(JsonElement body)
    {
        var v = new List<FieldViolation>();
        var patch = new DeploymentSpecPatch();
        foreach (var p in body.EnumerateObject())
        {
            var value = p.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            switch (p.Name)
            {
                case "baseModel": patch = patch with { BaseModel = Str(v, p.Name, value) }; break;
                case "displayName": patch = patch with { DisplayName = Str(v, p.Name, value) }; break;
                case "description": patch = patch with { Description = Str(v, p.Name, value) }; break;
                case "minReplicaCount": patch = patch with { MinReplicaCount = Int(v, p.Name, value) }; break;
                case "maxReplicaCount": patch = patch with { MaxReplicaCount = Int(v, p.Name, value) }; break;
                case "maxAddonCount": patch = patch with { MaxAddonCount = Int(v, p.Name, value) }; break;
                case "acceleratorCount": patch = patch with { AcceleratorCount = Int(v, p.Name, value) }; break;
                case "draftModel": patch = patch with { DraftModel = Str(v, p.Name, value) }; break;
                case "draftTokenCount": patch = patch with { DraftTokenCount = Int(v, p.Name, value) }; break;
                case "deploymentShape": patch = patch with { DeploymentShape = Str(v, p.Name, value) }; break;
                case "prefixCacheMb": patch = patch with { PrefixCacheMb = Int(v, p.Name, value) }; break;
                case "ngramSpeculationLength": patch = patch with { NgramSpeculationLength = Int(v, p.Name, value) }; break;
                case "unusedAutoDeleteDuration": patch = patch with { UnusedAutoDeleteDuration = Duration(v, p.Name, value) }; break;
                case "enableAddons":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        patch = patch with { EnableAddons = value.GetBoolean() };
                    }
                    else
                    {
                        v.Add(new(p.Name, $"must be true or false, got {JsonFields.Excerpt(value)}"));
                    }
                    break;
                case "acceleratorType":
                    if (Str(v, p.Name, value) is { } t)
                    {
                        if (AcceleratorTypes.TryParse(t, out var type))
                        {
                            patch = patch with { AcceleratorType = type };
                        }
                        else
                        {
                            v.Add(new(p.Name, $"unknown accelerator type \"{t}\"; known: {string.Join(", ", AcceleratorTypes.WireNames)}"));
                        }
                    }
                    break;
                case "precision":
                    if (Str(v, p.Name, value) is { } pr)
                    {
                        // Protobuf's zero value means "not chosen": the default precision.
                        if (pr == Precisions.Unspecified)
                        {
                            patch = patch with { Precision = DeploymentDefaults.Precision };
                        }
                        else if (Precisions.TryParse(pr, out var precision))
                        {
                            patch = patch with { Precision = precision };
                        }
                        else
                        {
                            v.Add(new(p.Name, $"unknown precision \"{pr}\"; known: {string.Join(", ", [.. Precisions.WireNames, Precisions.Unspecified])}"));
                        }
                    }
                    break;
                case "autoscalingPolicy": patch = patch with { AutoscalingPolicy = Policy(v, value) }; break;
                case "engine": patch = patch with { Engine = Str(v, p.Name, value) }; break;
                case "engineArgs": patch = patch with { EngineArgs = Strings(v, p.Name, value) }; break;
                default:
                    if (!OutputOnly.Contains(p.Name))
                    {
                        v.Add(new(p.Name, "unknown field"));
                    }
                    break;
            }
        }
        if (v.Count > 0)
        {
            throw KilnError.InvalidArgument(v);
        }
        return patch;
    }

    private static AutoscalingPolicyPatch? Policy(List<FieldViolation> v, JsonElement value)
    {
        const string prefix = "autoscalingPolicy";
        if (value.ValueKind != JsonValueKind.Object)
        {
            v.Add(new(prefix, $"must be an object, got {JsonFields.Excerpt(value)}"));
            return null;
        }
        var policy = new AutoscalingPolicyPatch();
        foreach (var p in value.EnumerateObject())
        {
            var path = $"{prefix}.{p.Name}";
            if (p.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            switch (p.Name)
            {
                case "scaleUpWindow": policy = policy with { ScaleUpWindow = Duration(v, path, p.Value) }; break;
                case "scaleDownWindow": policy = policy with { ScaleDownWindow = Duration(v, path, p.Value) }; break;
                case "scaleToZeroWindow": policy = policy with { ScaleToZeroWindow = Duration(v, path, p.Value) }; break;
                case "loadTargets":
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        v.Add(new(path, $"must be an object of numbers, got {JsonFields.Excerpt(p.Value)}"));
                        break;
                    }
                    var targets = new Dictionary<string, double>();
                    foreach (var t in p.Value.EnumerateObject())
                    {
                        if (t.Value.ValueKind == JsonValueKind.Number && t.Value.TryGetDouble(out var target) && double.IsFinite(target))
                        {
                            targets[t.Name] = target;
                        }
                        else
                        {
                            v.Add(new($"{path}.{t.Name}", $"must be a number, got {JsonFields.Excerpt(t.Value)}"));
                        }
                    }
                    policy = policy with { LoadTargets = targets };
                    break;
                default: v.Add(new(path, "unknown field")); break;
            }
        }
        return policy;
    }

    private static string? Str(List<FieldViolation> v, string path, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        v.Add(new(path, $"must be a string, got {JsonFields.Excerpt(value)}"));
        return null;
    }

    private static IReadOnlyList<string>? Strings(List<FieldViolation> v, string path, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return [.. value.EnumerateArray().Select(e => e.GetString()!)];
        }
        v.Add(new(path, $"must be an array of strings, got {JsonFields.Excerpt(value)}"));
        return null;
    }

    // Protobuf JSON writes int32 as numbers but accepts decimal strings too.
    internal static int? Int(List<FieldViolation> v, string path, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n))
        {
            return n;
        }
        if (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n))
        {
            return n;
        }
        v.Add(new(path, $"must be an integer, got {JsonFields.Excerpt(value)}"));
        return null;
    }

    private static TimeSpan? Duration(List<FieldViolation> v, string path, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            v.Add(new(path, $"must be a duration string such as \"30s\", got {JsonFields.Excerpt(value)}"));
            return null;
        }
        if (ProtoDuration.TryParse(value.GetString(), out var d, out var error))
        {
            return d;
        }
        v.Add(new(path, error));
        return null;
    }
}
