using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Sampling;

/// <summary>
/// Packs the lanes of a vector picked by a mask to the front, in lane order (AVX2 has no compress
/// instruction; a permutation per 8-bit mask does it), so a filter stores whole vectors instead of
/// moving one element per set bit.
/// </summary>
internal static class VectorCompress
{
    private static readonly Vector256<int>[] Permutations = Build();

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>
    /// Stores the lanes of <paramref name="a"/> and of <paramref name="b"/> chosen by <paramref name="mask"/> (8 bits)
    /// at dstA[n..] and dstB[n..] (a filter's values and their ids side by side, one permutation for both);
    /// returns the new n. All 8 lanes are written, so each destination needs 8 writable slots from n
    /// (in-place filters have them: n never passes the read position).
    /// </summary>
    public static int StorePair<T, U>(Vector256<T> a, Vector256<U> b, uint mask, ref T dstA, ref U dstB, int n)
    {
        var permutation = Permutation(mask);
        Avx2.PermuteVar8x32(a.AsInt32(), permutation).As<int, T>().StoreUnsafe(ref dstA, (nuint)n);
        Avx2.PermuteVar8x32(b.AsInt32(), permutation).As<int, U>().StoreUnsafe(ref dstB, (nuint)n);
        return n + BitOperations.PopCount(mask);
    }

    // A mask from a vector's 8 sign bits is below 256: no bounds check needed.
    private static Vector256<int> Permutation(uint mask) =>
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Permutations), (nint)(mask & 0xFF));

    private static Vector256<int>[] Build()
    {
        var table = new Vector256<int>[256];
        Span<int> lanes = stackalloc int[8];
        for (var mask = 0; mask < 256; mask++)
        {
            lanes.Clear();
            var n = 0;
            for (var lane = 0; lane < 8; lane++)
                if ((mask & (1 << lane)) != 0) lanes[n++] = lane;
            table[mask] = Vector256.Create<int>(lanes);
        }
        return table;
    }
}
