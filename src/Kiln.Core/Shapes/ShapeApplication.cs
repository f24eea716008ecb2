using Kiln.Core.Deployments;
using Kiln.Core.Errors;

namespace Kiln.Core.Shapes;

/// <summary>A create or update request with a deployment shape: the shape's fields fill the request, and fields that contradict it are refused.</summary>
public static class ShapeApplication
{
    /// <summary>
    /// <paramref name="request"/> with every field <paramref name="shape"/> fixes filled in and
    /// <c>deploymentShape</c> set to the version's name; INVALID_ARGUMENT naming each request field
    /// that contradicts the shape, and the shape (as Fireworks refuses them).
    /// </summary>
    public static DeploymentSpecPatch Apply(DeploymentSpecPatch request, ShapeVersion shape)
    {
        var violations = Contradictions(request, shape);
        if (violations.Count > 0)
        {
            throw KilnError.InvalidArgument(violations);
        }
        var s = shape.Snapshot;
        return request with
        {
            DeploymentShape = shape.Name,
            AcceleratorType = s.AcceleratorType,
            AcceleratorCount = s.AcceleratorCount,
            Precision = s.Precision,
            Engine = s.Engine,
            EnableAddons = s.EnableAddons ?? request.EnableAddons,
            MaxBatchSize = s.MaxBatchSize,
            MaxContextLength = s.MaxContextLength,
            PrefixCacheMb = s.PrefixCacheMb ?? request.PrefixCacheMb,
            DraftModel = s.DraftModel ?? request.DraftModel,
            DraftTokenCount = s.DraftTokenCount ?? request.DraftTokenCount,
            NgramSpeculationLength = s.NgramSpeculationLength ?? request.NgramSpeculationLength,
        };
    }

    /// <summary>The fields of <paramref name="request"/> given with a value other than the one <paramref name="shape"/> fixes.</summary>
    public static IReadOnlyList<FieldViolation> Contradictions(DeploymentSpecPatch request, ShapeVersion shape)
    {
        var s = shape.Snapshot;
        var v = new List<FieldViolation>();
        void Check<T>(string field, T? given, T? fixedValue, Func<T, string> show) where T : struct
        {
            if (given is { } g && fixedValue is { } f && !EqualityComparer<T>.Default.Equals(g, f))
            {
                v.Add(new(field, $"{show(g)} contradicts deployment shape {shape.Name}, which fixes {field} {show(f)}; leave {field} out or choose another shape"));
            }
        }
        void CheckText(string field, string? given, string? fixedValue)
        {
            if (!string.IsNullOrEmpty(given) && fixedValue is not null && given != fixedValue)
            {
                v.Add(new(field, $"\"{given}\" contradicts deployment shape {shape.Name}, which fixes {field} \"{fixedValue}\"; leave {field} out or choose another shape"));
            }
        }
        Check("acceleratorType", request.AcceleratorType, s.AcceleratorType, t => t.ToWireName());
        Check("acceleratorCount", request.AcceleratorCount, s.AcceleratorCount, Show);
        Check("precision", request.Precision, s.Precision, p => p.ToWireName());
        CheckText("engine", request.Engine, s.Engine);
        Check("enableAddons", request.EnableAddons, s.EnableAddons, b => b ? "true" : "false");
        Check("prefixCacheMb", request.PrefixCacheMb, s.PrefixCacheMb, Show);
        CheckText("draftModel", request.DraftModel, s.DraftModel);
        Check("draftTokenCount", request.DraftTokenCount, s.DraftTokenCount, Show);
        Check("ngramSpeculationLength", request.NgramSpeculationLength, s.NgramSpeculationLength, Show);
        return v;
    }

    private static string Show(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
