using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// <see cref="IByteDot"/> with AVX-VNNI: <c>vpdpbusd</c> multiplies unsigned by signed bytes and adds each
/// group of four products into a 32-bit lane in one instruction (AVX2 needs a multiply-add, a widening
/// multiply-add and an add). .NET 10 exposes <c>vpdpbusd</c> only at 256 bits (<see cref="AvxVnni"/>; no
/// AVX-512 VNNI class), and on AVX-512 CPUs the JIT encodes it with EVEX, so the tiles get all 32 vector
/// registers. Signed quants are offset by 128 (q ^ 0x80 is q + 128 as an unsigned byte) and the excess,
/// 128·Σx, is taken off once per block from the activation row's integer sums.
/// </summary>
internal struct VnniByteDot : IByteDot
{
    /// <summary>
    /// Thirty-two registers hold eight rows' integer and float accumulators: twice the activation rows per
    /// unpacked weight vector, and eight independent <c>vpdpbusd</c> chains to cover its latency.
    /// </summary>
    public static int MaxSeq => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> AddSmall(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> x)
        => AvxVnni.MultiplyWideningAndAdd(acc, u, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> acc) => acc;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(Vector256<sbyte> q) => q.AsByte() ^ Vector256.Create((byte)0x80);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> AddSigned(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> q, Vector256<sbyte> x)
        => AvxVnni.MultiplyWideningAndAdd(acc, u, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Unbias(Vector256<int> acc, int sum) => acc - Vector256.Create(sum << 7);
}
