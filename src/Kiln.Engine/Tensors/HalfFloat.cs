using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Tensors;

/// <summary>
/// IEEE half and bfloat16 conversions. The half-to-float path is a bit trick that is exact for every
/// input (normals, subnormals, Inf, NaN) so the scalar and vector forms give identical bits.
/// </summary>
internal static class HalfFloat
{
    // 2^112 rebias: a half's exponent/mantissa shifted into float position reads as value * 2^-112.
    private const uint Pow2_112Bits = 0x77800000;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort h)
    {
        uint em = h & 0x7fffu;
        uint sign = (uint)(h & 0x8000) << 16;
        float f = em >= 0x7c00
            ? BitConverter.UInt32BitsToSingle((em << 13) | 0x7f800000u)
            : BitConverter.UInt32BitsToSingle(em << 13) * BitConverter.UInt32BitsToSingle(Pow2_112Bits);
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(f) | sign);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float ToSingle(byte* p) => ToSingle(Unsafe.ReadUnaligned<ushort>(p));

    /// <summary>Round-to-nearest-even float to half, as F16C's vcvtps2ph does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    /// <summary>The float nearest to <paramref name="f"/> that a half can hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundToHalf(float f) => ToSingle(FromSingle(f));

    /// <summary>Halves held in the low 16 bits of each lane (upper bits ignored) to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToSingle(Vector128<int> h)
    {
        var em = h & Vector128.Create(0x7fff);
        var sign = (h & Vector128.Create(0x8000)) << 16;
        var shifted = em << 13;
        var normal = (shifted.AsSingle() * Vector128.Create(BitConverter.UInt32BitsToSingle(Pow2_112Bits))).AsInt32();
        var special = shifted | Vector128.Create(0x7f800000);
        var f = Vector128.ConditionalSelect(Vector128.GreaterThan(em, Vector128.Create(0x7bff)), special, normal);
        return (f | sign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<int> h)
    {
        var em = h & Vector256.Create(0x7fff);
        var sign = (h & Vector256.Create(0x8000)) << 16;
        var shifted = em << 13;
        var normal = (shifted.AsSingle() * Vector256.Create(BitConverter.UInt32BitsToSingle(Pow2_112Bits))).AsInt32();
        var special = shifted | Vector256.Create(0x7f800000);
        var f = Vector256.ConditionalSelect(Vector256.GreaterThan(em, Vector256.Create(0x7bff)), special, normal);
        return (f | sign).AsSingle();
    }

    /// <summary>Four halves read at a byte stride (the scale fields of consecutive blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<float> ToSingle4(byte* p, int stride) => ToSingle(Gather4(p, stride));

    /// <summary>Four halves read at a byte stride, raw, one per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<int> Gather4(byte* p, int stride) => Vector128.Create(
        (int)Unsafe.ReadUnaligned<ushort>(p),
        Unsafe.ReadUnaligned<ushort>(p + stride),
        Unsafe.ReadUnaligned<ushort>(p + 2 * stride),
        Unsafe.ReadUnaligned<ushort>(p + 3 * stride));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BF16ToSingle(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Round-to-nearest-even float to bfloat16; NaNs stay NaN (quiet bit forced), as ggml does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToBF16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffffu) > 0x7f800000u)
            return (ushort)((u >> 16) | 64);
        return (ushort)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundToBF16(float f) => BF16ToSingle(SingleToBF16(f));
}
