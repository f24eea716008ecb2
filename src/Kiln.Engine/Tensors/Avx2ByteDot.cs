using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// <see cref="IByteDot"/> with AVX2: <c>vpmaddubsw</c> forms 16-bit pair sums and <c>vpmaddwd</c> by ones
/// widens them. Small quants keep their pair sums in 16 bits until the block's end (eight steps of
/// 2·15·128 stay below 2^15); signed ones use the sign trick (|q| times x carrying q's sign) and widen at
/// every step, since a pair of 127·127 products leaves no headroom.
/// </summary>
internal struct Avx2ByteDot : IByteDot
{
    /// <summary>Sixteen registers: four rows' accumulators, the weights and the broadcast activations.</summary>
    public static int MaxSeq => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> AddSmall(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> x)
        => (acc.AsInt16() + Avx2.MultiplyAddAdjacent(u, x)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> acc) => Avx2.MultiplyAddAdjacent(acc.AsInt16(), Vector256<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(Vector256<sbyte> q) => Avx2.Abs(q);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> AddSigned(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> q, Vector256<sbyte> x)
        => acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(x, q)), Vector256<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Unbias(Vector256<int> acc, int sum) => acc;
}
