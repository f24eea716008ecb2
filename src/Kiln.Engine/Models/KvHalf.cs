using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Models;

/// <summary>
/// The F16 KV cache's element: halves the cache writes itself, so they are always finite. Stores
/// saturate at ±65504 (a key or value beyond it is already meaningless) and round to nearest even;
/// loads can then skip the Inf/NaN case and widen eight halves in four vector ops, which keeps
/// attention over an F16 cache bound by memory rather than by conversion.
/// </summary>
internal unsafe struct KvHalf : IFloatWeight
{
    private const float MaxHalf = 65504f;
    private static readonly float Pow2_112 = BitConverter.UInt32BitsToSingle(0x77800000);
    private static readonly float Pow2_Minus110 = BitConverter.UInt32BitsToSingle(0x08800000);

    public static int ElementBytes => 2;

    /// <summary>Eight finite halves to floats: the sign-extended half shifted into float position keeps
    /// the sign and exponent/mantissa bits, which read as the value · 2^-112. AVX2 only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i)
    {
        var h = Avx2.ConvertToVector256Int32((short*)row + i);
        var bits = (h << 13) & Vector256.Create(unchecked((int)0x8FFFE000));
        return bits.AsSingle() * Vector256.Create(Pow2_112);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => HalfFloat.ToSingle(((ushort*)row)[i]);

    /// <summary>Stores <paramref name="src"/> as halves, saturated to ±65504 and rounded to nearest even.</summary>
    public static void Store(ReadOnlySpan<float> src, ushort* dst)
    {
        int i = 0;
        fixed (float* s = src)
        {
            if (Simd.Level > SimdLevel.Scalar)
            {
                for (; i + 8 <= src.Length; i += 8)
                    Sse2.Store(dst + i, FromSingle8(Vector256.Load(s + i)));
            }
            for (; i < src.Length; i++)
                dst[i] = HalfFloat.FromSingle(Math.Clamp(s[i], -MaxHalf, MaxHalf));
        }
    }

    /// <summary>
    /// Eight floats to halves with the bits of a round-to-nearest-even conversion, after saturating to the
    /// finite range. Adding a power of two just above the value's half ulp makes the float adder do the
    /// rounding, subnormal halves included; the sum's low bits are then the half's exponent and mantissa.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<ushort> FromSingle8(Vector256<float> f)
    {
        f = Avx.Min(Avx.Max(f, Vector256.Create(-MaxHalf)), Vector256.Create(MaxHalf));
        var w = f.AsUInt32();
        var sign = w & Vector256.Create(0x80000000u);
        var magnitude = (w & Vector256.Create(0x7FFFFFFFu)).AsSingle();
        // Scaling up then down flushes what the half cannot hold without overflow (|f| <= 65504).
        var scaled = magnitude * Vector256.Create(Pow2_112) * Vector256.Create(Pow2_Minus110);
        var bias = Avx2.Max((w + w) & Vector256.Create(0xFF000000u), Vector256.Create(0x71000000u));
        var rounded = ((bias >> 1) + Vector256.Create(0x07800000u)).AsSingle() + scaled;
        var bits = rounded.AsUInt32();
        var half = ((bits >> 13) & Vector256.Create(0x7C00u)) + (bits & Vector256.Create(0x0FFFu)) | (sign >> 16);
        return Sse41.PackUnsignedSaturate(half.GetLower().AsInt32(), half.GetUpper().AsInt32());
    }
}
