using System.Runtime.CompilerServices;

namespace Kiln.Engine.Tensors;

/// <summary>
/// Layout of a Q8_0 activation row as the kernels consume it: nb standard Q8_0 blocks {half d; i8 q[32]},
/// then the block scales widened to floats, then each block's scaled sum d·Σq (which lets kernels dot
/// biased weight formats unsigned: Σ(w - bias)·a = Σw·a - bias·Σa), then each block's integer sum Σq (the
/// same correction made exactly, in integers, by kernels that offset signed weights to unsigned ones); all
/// three arrays are padded with zeros to a multiple of four so kernels can load them four at a time.
/// Widening once per row spares the kernels a half conversion per block and weight row.
/// </summary>
internal static unsafe class Q8Activation
{
    public const int BlockBytes = 34;

    /// <summary>Bytes of a row of <paramref name="nb"/> blocks.</summary>
    public static int RowBytes(int nb) => checked(nb * BlockBytes + Padded(nb) * 12);

    private static int Padded(int nb) => (nb + 3) & ~3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* Scales(byte* row, int nb) => (float*)(row + (nint)nb * BlockBytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* ScaledSums(byte* row, int nb) => Scales(row, nb) + Padded(nb);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int* Sums(byte* row, int nb) => (int*)(ScaledSums(row, nb) + Padded(nb));

    /// <summary>Writes block <paramref name="b"/>'s widened scale, scaled sum and sum, and the padding after the last block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetTail(byte* row, int nb, int b, float d, int sum)
    {
        float* scales = Scales(row, nb), scaled = ScaledSums(row, nb);
        int* sums = Sums(row, nb);
        scales[b] = d;
        scaled[b] = d * sum;
        sums[b] = sum;
        if (b == nb - 1)
            for (int p = nb; (p & 3) != 0; p++)
            {
                scales[p] = scaled[p] = 0;
                sums[p] = 0;
            }
    }

    /// <summary>Recomputes the tail of a row from its blocks.</summary>
    public static void FillTail(byte* row, int nb)
    {
        for (int b = 0; b < nb; b++)
        {
            byte* block = row + (nint)b * BlockBytes;
            int sum = 0;
            for (int j = 0; j < 32; j++)
                sum += ((sbyte*)(block + 2))[j];
            SetTail(row, nb, b, HalfFloat.ToSingle(block), sum);
        }
    }
}
