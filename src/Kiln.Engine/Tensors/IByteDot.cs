using System.Runtime.Intrinsics;

namespace Kiln.Engine.Tensors;

/// <summary>
/// The integer step of the packed Q4_0 and Q8_0 kernels, one implementation per instruction set
/// (<see cref="Avx2ByteDot"/>, <see cref="VnniByteDot"/>), so a kernel's tile is written once and the
/// JIT specializes it per set. Every 32-bit lane is one weight row's dot of four bytes with a broadcast
/// activation dword; all sums are exact integers, so every implementation gives the same bits.
/// </summary>
internal interface IByteDot
{
    /// <summary>Activation rows per register tile: how many rows' accumulators fit in the vector registers.</summary>
    static abstract int MaxSeq { get; }

    /// <summary>
    /// Adds u·x (u unsigned quants below 16, x activation bytes) to an accumulator that
    /// <see cref="Widen"/> turns into 32-bit lane sums; it may hold 16-bit pair sums until then.
    /// </summary>
    static abstract Vector256<int> AddSmall(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> x);

    /// <summary>The 32-bit lane sums of an <see cref="AddSmall"/> accumulator.</summary>
    static abstract Vector256<int> Widen(Vector256<int> acc);

    /// <summary>The operand <see cref="AddSigned"/> takes for signed quants q, computed once for every activation row.</summary>
    static abstract Vector256<byte> Unsigned(Vector256<sbyte> q);

    /// <summary>Adds q·x in 32 bits, u being <see cref="Unsigned"/>(q), up to an offset <see cref="Unbias"/> removes.</summary>
    static abstract Vector256<int> AddSigned(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> q, Vector256<sbyte> x);

    /// <summary>Exact Σq·x from an <see cref="AddSigned"/> accumulator over one activation block whose quants sum to <paramref name="sum"/>.</summary>
    static abstract Vector256<int> Unbias(Vector256<int> acc, int sum);
}
