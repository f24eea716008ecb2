using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>The instruction sets Kiln's kernels are written for, lowest first. Every level gives the same bits.</summary>
public enum SimdLevel
{
    /// <summary>Plain loops, the reference every vector kernel is tested against.</summary>
    Scalar,

    /// <summary>AVX2 and FMA, 256-bit.</summary>
    Avx2,

    /// <summary>
    /// An AVX-512 CPU (F, BW, VL) that also has AVX-VNNI: the Q4_0 and Q8_0 matmuls sum bytes with
    /// <c>vpdpbusd</c> (one instruction where AVX2 needs three) and use all 32 vector registers.
    /// </summary>
    Avx512,
}

/// <summary>
/// The one place that decides which kernels run: the best level the CPU supports, or the level named by
/// the <c>KILN_SIMD</c> environment variable (<c>avx512</c>, <c>avx2</c>, <c>scalar</c>). A value that is
/// not a level, or names one this CPU lacks, is refused with an <see cref="InvalidOperationException"/>
/// the first time a kernel is chosen (in practice, at model load) rather than silently running another
/// path, so a benchmark or a replica never reports figures for kernels it did not run.
/// </summary>
public static class Simd
{
    public const string Variable = "KILN_SIMD";

    private static SimdLevel? s_configured;

    /// <summary>The best level this CPU runs.</summary>
    public static SimdLevel Supported { get; } = Detect();

    /// <summary>The level the kernels use; throws when <c>KILN_SIMD</c> is invalid for this CPU.</summary>
    public static SimdLevel Level => s_configured ??= Configure(Environment.GetEnvironmentVariable(Variable), Supported);

    /// <summary>True when <paramref name="level"/> can run here.</summary>
    public static bool IsSupported(SimdLevel level) => level <= Supported;

    /// <summary>The level a <c>KILN_SIMD</c> value selects on a CPU that supports up to <paramref name="supported"/>.</summary>
    public static SimdLevel Configure(string? value, SimdLevel supported)
    {
        if (string.IsNullOrWhiteSpace(value))
            return supported;
        SimdLevel level = value.Trim().ToLowerInvariant() switch
        {
            "avx512" => SimdLevel.Avx512,
            "avx2" => SimdLevel.Avx2,
            "scalar" => SimdLevel.Scalar,
            _ => throw new InvalidOperationException($"{Variable}={value} is not a SIMD level; use avx512, avx2 or scalar (or leave it unset for the best this CPU supports)"),
        };
        if (level > supported)
            throw new InvalidOperationException($"{Variable}={value} asks for {level} kernels, but this CPU supports up to {supported}");
        return level;
    }

    /// <summary>
    /// Runs the kernels at <paramref name="level"/> until the returned scope is disposed, so tests can
    /// drive every level in one process. Process-wide: callers must not run concurrently with other kernel users.
    /// </summary>
    internal static IDisposable Use(SimdLevel level)
    {
        if (!IsSupported(level))
            throw new PlatformNotSupportedException($"this CPU supports up to {Supported}, not {level}");
        var previous = s_configured;
        s_configured = level;
        return new Restore(previous);
    }

    private static SimdLevel Detect()
    {
        if (!Avx2.IsSupported || !Fma.IsSupported)
            return SimdLevel.Scalar;
        if (Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512BW.VL.IsSupported && AvxVnni.IsSupported)
            return SimdLevel.Avx512;
        return SimdLevel.Avx2;
    }

    private sealed class Restore(SimdLevel? previous) : IDisposable
    {
        public void Dispose() => s_configured = previous;
    }
}
