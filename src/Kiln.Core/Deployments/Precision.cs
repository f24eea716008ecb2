using Kiln.Core.Wire;

namespace Kiln.Core.Deployments;

/// <summary>
/// The numeric precision a replica serves at; wire names as Fireworks' <c>precision</c> field
/// ("FP16"). Kiln's engine keeps weights as the model file stores them, so precision selects the
/// KV cache: F32 or F16.
/// </summary>
public enum Precision
{
    /// <summary>F32 KV cache, the default: logits match the reference exactly.</summary>
    Fp32,
    /// <summary>F16 KV cache: half the cache memory and faster batched decode.</summary>
    Fp16,
}

/// <summary>Wire names of <see cref="Precision"/>.</summary>
public static class Precisions
{
    /// <summary>What a request may send to mean "the default"; never written back.</summary>
    public const string Unspecified = "PRECISION_UNSPECIFIED";

    private static readonly WireTable<Precision> Table = new(
        (Precision.Fp32, "FP32"),
        (Precision.Fp16, "FP16"));

    /// <summary>Every concrete wire name, in declaration order (for help texts and error messages).</summary>
    public static IReadOnlyList<string> WireNames { get; } = [.. Table.Names];

    /// <summary>The wire name, e.g. "FP16".</summary>
    public static string ToWireName(this Precision precision) => Table.Name(precision);

    /// <summary>Parses a concrete wire name (exact).</summary>
    public static bool TryParse(string? name, out Precision precision) => Table.TryParse(name, out precision);
}
