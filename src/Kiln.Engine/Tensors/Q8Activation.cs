using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Layout of a Q8_0 activation row as the kernels consume it: nb standard Q8_0 blocks {half d; i8 q[32]},
/// then nb floats (each block's d, widened) and nb int32 block sums Σq. The widened scales spare the
/// kernels a half conversion per block and activation row; the sums let unsigned-decoded weights
/// (Q4_0, Q5_0) skip the sign trick: Σ(w - bias)·a = Σw·a - bias·Σa.
/// </summary>
internal static unsafe class Q8Activation
{
    public const int BlockBytes = 34;

    /// <summary>Bytes per block: the block itself plus its float scale and int sum.</summary>
    public const int RowBytesPerBlock = BlockBytes + 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* Scales(byte* row, int nb) => (float*)(row + (nint)nb * BlockBytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int* Sums(byte* row, int nb) => (int*)(row + (nint)nb * (BlockBytes + 4));

    /// <summary>Recomputes the scale and sum tail of a row from its blocks.</summary>
    public static void FillTail(byte* row, int nb)
    {
        float* scales = Scales(row, nb);
        int* sums = Sums(row, nb);
        for (int b = 0; b < nb; b++)
        {
            byte* block = row + (nint)b * BlockBytes;
            scales[b] = HalfFloat.ToSingle(block);
            int sum = 0;
            for (int j = 0; j < 32; j++)
                sum += ((sbyte*)(block + 2))[j];
            Unsafe.WriteUnaligned(sums + b, sum);
        }
    }
}
