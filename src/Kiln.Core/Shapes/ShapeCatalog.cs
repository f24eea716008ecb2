using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Engines;
using Kiln.Core.Errors;

namespace Kiln.Core.Shapes;

/// <summary>
/// The server's deployment shapes, under account <see cref="ShapeName.BuiltInAccount"/>: the
/// built-in CPU shapes and those of its configuration file's <c>deploymentShapes</c> section (which
/// may replace a built-in of the same ID). Each has one version, named by its content.
/// </summary>
public sealed class ShapeCatalog
{
    /// <summary>When the built-in and configured versions count as made: they predate every account's.</summary>
    public static readonly DateTimeOffset ServerShapeTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<ShapeVersion> _versions;

    /// <summary>A catalog of <paramref name="versions"/>, sorted by shape ID.</summary>
    public ShapeCatalog(IEnumerable<ShapeVersion> versions) =>
        _versions = [.. versions.OrderBy(v => v.ShapeId, StringComparer.Ordinal)];

    /// <summary>Every version, by shape ID.</summary>
    public IReadOnlyList<ShapeVersion> Versions => _versions;

    /// <summary>The version <paramref name="shapeId"/>/<paramref name="versionId"/> (null: the newest), or null.</summary>
    public ShapeVersion? Find(string shapeId, string? versionId) => Newest(_versions.Where(v => v.ShapeId == shapeId), versionId);

    /// <summary>Of <paramref name="versions"/> (one shape's), the one with <paramref name="versionId"/>, or the newest for null.</summary>
    public static ShapeVersion? Newest(IEnumerable<ShapeVersion> versions, string? versionId) => versionId is null
        ? versions.OrderByDescending(v => v.CreateTime).FirstOrDefault()
        : versions.FirstOrDefault(v => v.VersionId == versionId);

    /// <summary>The CPU shapes every server offers, for small llama-family GGUF models.</summary>
    public static IReadOnlyList<(string Id, ShapeSnapshot Snapshot)> BuiltIn { get; } =
    [
        ("cpu-minimal", new ShapeSnapshot
        {
            DisplayName = "CPU, minimal",
            Description = "One core, F32 KV cache, four sequences at once: the smallest footprint for a small model.",
            PresetType = "MINIMAL", ModelType = "LLM", Architectures = ["llama"], MaxModelSizeMb = 2048,
            AcceleratorType = AcceleratorType.Cpu, AcceleratorCount = 1, Precision = Precision.Fp32,
            MaxBatchSize = 4, MaxContextLength = 2048, PrefixCacheMb = 64,
        }),
        ("cpu-fast", new ShapeSnapshot
        {
            DisplayName = "CPU, low latency",
            Description = "Two cores, F32 KV cache, n-gram speculation proposing 4 tokens: faster single streams on repetitive text.",
            PresetType = "FAST", ModelType = "LLM", Architectures = ["llama"], MaxModelSizeMb = 2048,
            AcceleratorType = AcceleratorType.Cpu, AcceleratorCount = 2, Precision = Precision.Fp32,
            MaxBatchSize = 4, MaxContextLength = 4096, PrefixCacheMb = 256, NgramSpeculationLength = 3, DraftTokenCount = 4,
        }),
        ("cpu-throughput", new ShapeSnapshot
        {
            DisplayName = "CPU, throughput",
            Description = "Two cores, F16 KV cache, sixteen sequences at once and a 512 MiB prefix cache: the most tokens per second.",
            PresetType = "THROUGHPUT", ModelType = "LLM", Architectures = ["llama"], MaxModelSizeMb = 2048,
            AcceleratorType = AcceleratorType.Cpu, AcceleratorCount = 2, Precision = Precision.Fp16,
            MaxBatchSize = 16, MaxContextLength = 4096, PrefixCacheMb = 512,
        }),
    ];

    /// <summary>The built-in shapes only.</summary>
    public static ShapeCatalog Default { get; } = new(BuiltIn.Select(b => ShapeVersion.Of(ShapeName.BuiltInAccount, b.Id, b.Snapshot, ServerShapeTime)));

    /// <summary>
    /// The catalog of a configuration document: the built-ins with its <c>deploymentShapes</c>
    /// section (an object of shapes by ID) added, or every problem, each with its JSON path.
    /// </summary>
    public static bool TryRead(JsonElement root, EngineCatalog engines, out ShapeCatalog catalog, out IReadOnlyList<string> problems)
    {
        catalog = Default;
        var found = new List<string>();
        problems = found;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("deploymentShapes", out var section))
        {
            return true;
        }
        if (section.ValueKind != JsonValueKind.Object)
        {
            found.Add("deploymentShapes: must be an object of shapes by ID");
            return false;
        }
        var shapes = BuiltIn.ToDictionary(b => b.Id, b => b.Snapshot);
        foreach (var entry in section.EnumerateObject())
        {
            var path = $"deploymentShapes.{entry.Name}";
            if (Names.ResourceNames.ValidateId(entry.Name, "deployment shape") is { } bad)
            {
                found.Add($"{path}: {bad}");
                continue;
            }
            var v = new List<FieldViolation>();
            var snapshot = ShapeSnapshotJson.Parse(entry.Value, path, engines, v);
            found.AddRange(v.Select(x => x.ToString()));
            shapes[entry.Name] = snapshot;
        }
        if (found.Count > 0)
        {
            return false;
        }
        catalog = new ShapeCatalog(shapes.Select(s => ShapeVersion.Of(ShapeName.BuiltInAccount, s.Key, s.Value, ServerShapeTime)));
        return true;
    }
}
