using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class PackedMatrixTests
{
    /// <summary>The packed copy a model keeps must give exactly the raw rows' results, every row and activation count.</summary>
    [AcceleratedTheory]
    [InlineData(GgmlType.Q4_0, 8, 64)]
    [InlineData(GgmlType.Q4_0, 21, 160)]
    [InlineData(GgmlType.Q4_0, 37, 288)]
    [InlineData(GgmlType.Q8_0, 8, 64)]
    [InlineData(GgmlType.Q8_0, 21, 160)]
    [InlineData(GgmlType.Q8_0, 37, 288)]
    [InlineData(GgmlType.Q4_K, 8, 256)]
    [InlineData(GgmlType.Q4_K, 21, 512)]
    [InlineData(GgmlType.Q4_K, 13, 768)]
    [InlineData(GgmlType.Q6_K, 8, 256)]
    [InlineData(GgmlType.Q6_K, 21, 512)]
    [InlineData(GgmlType.Q6_K, 13, 768)]
    public unsafe void PackedMatchesRawRowsBitForBit(GgmlType type, int rows, int n)
    {
        var rng = new Random(rows * 1000 + n);
        long rowBytes = GgmlTypeInfo.RowBytes(type, n);
        var w = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
            TestData.Blocks(rng, type, n).CopyTo(w, r * rowBytes);
        int actBytes = MatMul.ActivationRowBytes(type, n);
        foreach (var level in SimdLevels.Vector)
        {
            PackedMatrix packed;
            fixed (byte* pw = w)
                packed = PackedMatrix.TryCreate(type, pw, rowBytes, rows, n, level)!;
            using (packed)
                AssertMatchesRawRows(packed, w, rowBytes, actBytes, rng, $"{type} {level} rows={rows} n={n}");
        }
    }

    private static unsafe void AssertMatchesRawRows(PackedMatrix packed, byte[] w, long rowBytes, int actBytes, Random rng, string what)
    {
        var (type, rows, n) = (packed.Type, packed.Rows, packed.Cols);
        foreach (int nSeq in new[] { 1, 2, 3, 4, 5, 8, 9 })
        {
            var act = new byte[nSeq * actBytes];
            for (int s = 0; s < nSeq; s++)
                TestData.Activation(rng, type, n).CopyTo(act, s * actBytes);
            int yStride = rows + 2;
            var expected = new float[nSeq * yStride];
            MatMul.Rows(type, w, rowBytes, n, act, nSeq, expected, yStride, 0, rows, SimdLevel.Scalar);
            foreach (int start in new[] { 0, 8 })
            {
                if (start >= rows) continue;
                var y = new float[nSeq * yStride];
                y.AsSpan().Fill(float.NaN);
                fixed (float* py = y)
                    packed.Multiply(act, nSeq, py, yStride, start, rows);
                for (int s = 0; s < nSeq; s++)
                {
                    for (int r = 0; r < yStride; r++)
                    {
                        float got = y[s * yStride + r];
                        if (r < start || r >= rows)
                            Assert.True(float.IsNaN(got), $"row {r} outside [{start}, {rows}) was written");
                        else
                            Assert.True(BitConverter.SingleToInt32Bits(expected[s * yStride + r]) == BitConverter.SingleToInt32Bits(got),
                                $"{what} nSeq={nSeq} s={s} r={r}: {expected[s * yStride + r]:R} vs {got:R}");
                    }
                }
            }
        }
    }

    [AcceleratedTheory]
    [InlineData(3)]
    [InlineData(-8)]
    public unsafe void RangesThatDoNotStartOnAGroupAreRefused(int start)
    {
        var w = new byte[16 * GgmlTypeInfo.RowBytes(GgmlType.Q4_0, 32)];
        PackedMatrix packed;
        fixed (byte* pw = w)
            packed = PackedMatrix.TryCreate(GgmlType.Q4_0, pw, GgmlTypeInfo.RowBytes(GgmlType.Q4_0, 32), 16, 32)!;
        using (packed)
        {
            var act = new byte[MatMul.ActivationRowBytes(GgmlType.Q4_0, 32)];
            var y = new float[16];
            Assert.Throws<ArgumentOutOfRangeException>(() =>
            {
                fixed (float* py = y)
                    packed.Multiply(act, 1, py, 16, start, 16);
            });
        }
    }
}
