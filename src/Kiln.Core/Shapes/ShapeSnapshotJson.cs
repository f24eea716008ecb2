using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;

namespace Kiln.Core.Shapes;

/// <summary>
/// Reads and checks a shape's fields in Fireworks' snapshot names (plus Kiln's <c>engine</c>,
/// <c>maxBatchSize</c>, <c>prefixCacheMb</c>, <c>architectures</c>, <c>minModelSizeMb</c> and
/// <c>maxModelSizeMb</c>), as the configuration file and the create API give them.
/// </summary>
public static class ShapeSnapshotJson
{
    /// <summary>Every field a shape may give.</summary>
    public static IReadOnlyList<string> Fields { get; } =
    [
        "displayName", "description", "presetType", "baseModel", "architectures", "minModelSizeMb", "maxModelSizeMb", "modelType",
        "parameterCount", "acceleratorType", "acceleratorCount", "precision", "engine", "enableAddons", "maxBatchSize",
        "maxContextLength", "prefixCacheMb", "draftModel", "draftTokenCount", "ngramSpeculationLength",
    ];

    /// <summary>
    /// The snapshot <paramref name="o"/> describes, with every problem added to <paramref name="v"/>
    /// (each at <paramref name="path"/>.field); <paramref name="engines"/> names the engines a shape may use.
    /// </summary>
    public static ShapeSnapshot Parse(JsonElement o, string path, EngineCatalog engines, List<FieldViolation> v)
    {
        var s = new ShapeSnapshot();
        if (o.ValueKind != JsonValueKind.Object)
        {
            v.Add(new(path, "must be an object of shape fields"));
            return s;
        }
        string P(string field) => path.Length == 0 ? field : $"{path}.{field}";
        foreach (var f in o.EnumerateObject())
        {
            var value = f.Value;
            var at = P(f.Name);
            switch (f.Name)
            {
                case "displayName": s = s with { DisplayName = Str(v, at, value) }; break;
                case "description": s = s with { Description = Str(v, at, value) }; break;
                case "presetType": s = s with { PresetType = Str(v, at, value) ?? s.PresetType }; break;
                case "baseModel": s = s with { BaseModel = Str(v, at, value) }; break;
                case "modelType": s = s with { ModelType = Str(v, at, value) }; break;
                case "engine": s = s with { Engine = Str(v, at, value) ?? s.Engine }; break;
                case "draftModel": s = s with { DraftModel = Str(v, at, value) }; break;
                case "architectures":
                    if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String && e.GetString()!.Length > 0))
                    {
                        s = s with { Architectures = [.. value.EnumerateArray().Select(e => e.GetString()!)] };
                    }
                    else
                    {
                        v.Add(new(at, "must be an array of architecture names, e.g. [\"llama\"]"));
                    }
                    break;
                case "minModelSizeMb": s = s with { MinModelSizeMb = Long(v, at, value) }; break;
                case "maxModelSizeMb": s = s with { MaxModelSizeMb = Long(v, at, value) }; break;
                case "parameterCount": s = s with { ParameterCount = Long(v, at, value) }; break;
                case "acceleratorCount": s = s with { AcceleratorCount = Int(v, at, value) ?? s.AcceleratorCount }; break;
                case "maxBatchSize": s = s with { MaxBatchSize = Int(v, at, value) }; break;
                case "maxContextLength": s = s with { MaxContextLength = Int(v, at, value) }; break;
                case "prefixCacheMb": s = s with { PrefixCacheMb = Int(v, at, value) }; break;
                case "draftTokenCount": s = s with { DraftTokenCount = Int(v, at, value) }; break;
                case "ngramSpeculationLength": s = s with { NgramSpeculationLength = Int(v, at, value) }; break;
                case "enableAddons":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        s = s with { EnableAddons = value.GetBoolean() };
                    }
                    else
                    {
                        v.Add(new(at, "must be true or false"));
                    }
                    break;
                case "acceleratorType":
                    if (Str(v, at, value) is { } t)
                    {
                        if (AcceleratorTypes.TryParse(t, out var type))
                        {
                            s = s with { AcceleratorType = type };
                        }
                        else
                        {
                            v.Add(new(at, $"unknown accelerator type \"{t}\"; known: {string.Join(", ", AcceleratorTypes.WireNames)}"));
                        }
                    }
                    break;
                case "precision":
                    if (Str(v, at, value) is { } pr)
                    {
                        if (Precisions.TryParse(pr, out var precision))
                        {
                            s = s with { Precision = precision };
                        }
                        else
                        {
                            v.Add(new(at, $"unknown precision \"{pr}\"; known: {string.Join(", ", Precisions.WireNames)}"));
                        }
                    }
                    break;
                default: v.Add(new(at, $"unknown field; known: {string.Join(", ", Fields)}")); break;
            }
        }
        v.AddRange(Validate(s, path, engines));
        return s;
    }

    /// <summary>What is wrong with <paramref name="s"/> as a whole, each at <paramref name="path"/>.field.</summary>
    public static IReadOnlyList<FieldViolation> Validate(ShapeSnapshot s, string path, EngineCatalog engines)
    {
        var prefix = path.Length == 0 ? "" : path + ".";
        var v = new List<FieldViolation>();
        if (!ShapeSnapshot.PresetTypes.Contains(s.PresetType))
        {
            v.Add(new(prefix + "presetType", $"unknown preset type \"{s.PresetType}\"; known: {string.Join(", ", ShapeSnapshot.PresetTypes)}"));
        }
        if (s.BaseModel is { } bm && !Names.ModelName.TryParse(bm, out _, out var modelError))
        {
            v.Add(new(prefix + "baseModel", modelError));
        }
        if (s.BaseModel is not null && (s.Architectures.Count > 0 || s.MinModelSizeMb is not null || s.MaxModelSizeMb is not null))
        {
            v.Add(new(prefix + "baseModel", "a shape fits one exact baseModel or models by architectures and size, not both"));
        }
        if (s.MinModelSizeMb is < 0 || s.MaxModelSizeMb is < 0 || s.MinModelSizeMb > s.MaxModelSizeMb)
        {
            v.Add(new(prefix + "maxModelSizeMb", "model size bounds must be non-negative, the minimum at most the maximum"));
        }
        if (engines.Find(s.Engine) is null)
        {
            v.Add(new(prefix + "engine", $"unknown engine \"{s.Engine}\"; this server offers {string.Join(", ", engines.Names)}"));
        }
        // The rest are the checks of the deployment the shape would make.
        var spec = new DeploymentSpec
        {
            BaseModel = s.BaseModel ?? "accounts/shape/models/any",
            AcceleratorType = s.AcceleratorType,
            AcceleratorCount = s.AcceleratorCount,
            Precision = s.Precision,
            Engine = s.Engine,
            EnableAddons = s.EnableAddons ?? false,
            MaxBatchSize = s.MaxBatchSize,
            MaxContextLength = s.MaxContextLength,
            PrefixCacheMb = s.PrefixCacheMb,
            DraftModel = s.DraftModel,
            DraftTokenCount = s.DraftTokenCount,
            NgramSpeculationLength = s.NgramSpeculationLength,
        };
        v.AddRange(DeploymentSpecValidator.Validate(spec).Select(x => x with { Field = prefix + x.Field }));
        return v;
    }

    private static string? Str(List<FieldViolation> v, string at, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        v.Add(new(at, "must be a string"));
        return null;
    }

    private static int? Int(List<FieldViolation> v, string at, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n))
        {
            return n;
        }
        v.Add(new(at, "must be an integer"));
        return null;
    }

    private static long? Long(List<FieldViolation> v, string at, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n))
        {
            return n;
        }
        v.Add(new(at, "must be an integer"));
        return null;
    }
}
