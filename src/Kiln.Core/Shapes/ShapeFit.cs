using System.Globalization;

namespace Kiln.Core.Shapes;

/// <summary>What a shape needs to know of a model to say whether it fits.</summary>
/// <param name="Name">The model, <c>accounts/A/models/M</c>.</param>
/// <param name="Architecture">Its architecture, or null when unknown.</param>
/// <param name="SizeBytes">Its file's (or folder's) size.</param>
public sealed record ShapeModel(string Name, string? Architecture, long SizeBytes);

/// <summary>Whether a shape version can serve a model.</summary>
public static class ShapeFit
{
    /// <summary>Null when <paramref name="shape"/> fits <paramref name="model"/>; else why not, naming both.</summary>
    public static string? Check(ShapeVersion shape, ShapeModel model)
    {
        var s = shape.Snapshot;
        if (s.BaseModel is { } only)
        {
            return only == model.Name ? null : $"deployment shape {shape.Name} is made for {only}, not {model.Name}";
        }
        if (s.Architectures.Count > 0 && !s.Architectures.Contains(model.Architecture ?? "", StringComparer.OrdinalIgnoreCase))
        {
            return $"deployment shape {shape.Name} fits {string.Join(" or ", s.Architectures)} models, but {model.Name} is {model.Architecture ?? "of unknown architecture"}";
        }
        var mb = (model.SizeBytes + (1 << 20) - 1) >> 20;
        if (s.MaxModelSizeMb is { } max && mb > max)
        {
            return $"deployment shape {shape.Name} fits models of at most {Mb(max)}, but {model.Name} is {Mb(mb)}";
        }
        if (s.MinModelSizeMb is { } min && mb < min)
        {
            return $"deployment shape {shape.Name} fits models of at least {Mb(min)}, but {model.Name} is {Mb(mb)}";
        }
        return null;
    }

    private static string Mb(long mb) => mb.ToString("N0", CultureInfo.InvariantCulture) + " MiB";
}
