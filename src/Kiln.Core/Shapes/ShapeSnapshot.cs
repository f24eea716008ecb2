using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kiln.Core.Deployments;

namespace Kiln.Core.Shapes;

/// <summary>
/// What a deployment shape version fixes (Fireworks' <c>snapshot</c>): accelerators, precision, the
/// engine and its settings, optional speculation, and which base models it fits: one exact
/// <see cref="BaseModel"/>, or models of one of <see cref="Architectures"/> within a size range.
/// Kiln records a model's architecture and file size, not its parameter count, so size bounds the
/// models a shape fits; <see cref="ParameterCount"/> is descriptive.
/// </summary>
public sealed record ShapeSnapshot
{
    /// <summary>Optional human-readable name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Optional free text.</summary>
    public string? Description { get; init; }

    /// <summary>What the shape is tuned for: <c>MINIMAL</c>, <c>FAST</c>, <c>THROUGHPUT</c> or <c>CUSTOM</c>.</summary>
    public string PresetType { get; init; } = "CUSTOM";

    /// <summary>The one model it fits, <c>accounts/A/models/M</c>; null when it fits by architecture.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Architectures it fits (a GGUF's <c>general.architecture</c> or a Hugging Face class), compared without case.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>Smallest model file it fits, MiB; null for no bound.</summary>
    public long? MinModelSizeMb { get; init; }

    /// <summary>Largest model file it fits, MiB; null for no bound.</summary>
    public long? MaxModelSizeMb { get; init; }

    /// <summary>Fireworks' <c>modelType</c>, descriptive (e.g. "LLM").</summary>
    public string? ModelType { get; init; }

    /// <summary>Fireworks' <c>parameterCount</c>, descriptive.</summary>
    public long? ParameterCount { get; init; }

    /// <summary>The accelerator per replica.</summary>
    public AcceleratorType AcceleratorType { get; init; } = AcceleratorType.Cpu;

    /// <summary>Accelerators per replica (threads on CPU).</summary>
    public int AcceleratorCount { get; init; } = 1;

    /// <summary>Serving precision (the KV cache type of Kiln's engine).</summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>The engine profile.</summary>
    public string Engine { get; init; } = DeploymentDefaults.Engine;

    /// <summary>Whether addons are enabled; null leaves it to the request.</summary>
    public bool? EnableAddons { get; init; }

    /// <summary>Sequences decoded together; null for the engine's default.</summary>
    public int? MaxBatchSize { get; init; }

    /// <summary>Context tokens per sequence; null for the model's.</summary>
    public int? MaxContextLength { get; init; }

    /// <summary>Prefix cache budget, MiB (Kiln's engine); null leaves it to the request.</summary>
    public int? PrefixCacheMb { get; init; }

    /// <summary>Draft model for speculation; null for none.</summary>
    public string? DraftModel { get; init; }

    /// <summary>Tokens proposed per step.</summary>
    public int? DraftTokenCount { get; init; }

    /// <summary>N-gram speculation length.</summary>
    public int? NgramSpeculationLength { get; init; }

    /// <summary>Preset types a shape may name.</summary>
    public static IReadOnlyList<string> PresetTypes { get; } = ["MINIMAL", "FAST", "THROUGHPUT", "CUSTOM"];

    /// <summary>
    /// The version ID of this content: the first 12 hex digits of the SHA-256 of its fields, so a
    /// version never changes under its name and the same content always gets the same version.
    /// </summary>
    public string VersionId()
    {
        var text = string.Join("\n", new object?[]
        {
            DisplayName, Description, PresetType, BaseModel, string.Join(",", Architectures), MinModelSizeMb, MaxModelSizeMb,
            ModelType, ParameterCount, AcceleratorType.ToWireName(), AcceleratorCount, Precision.ToWireName(), Engine, EnableAddons,
            MaxBatchSize, MaxContextLength, PrefixCacheMb, DraftModel, DraftTokenCount, NgramSpeculationLength,
        }.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "~"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
    }
}
