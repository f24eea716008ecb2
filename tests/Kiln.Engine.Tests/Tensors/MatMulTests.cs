using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class MatMulTests
{
    public static TheoryData<GgmlType> WeightTypes => TestData.Types(TestData.WeightTypes);

    private static int[] Lengths(GgmlType t) => Reference.BlockSize(t) == 256
        ? [256, 512, 768, 1280, 2304]
        // 32-element blocks: block counts on and off the kernels' groups of four, plus float tails.
        : t is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? [1, 7, 8, 31, 32, 40, 72, 256, 1000] : [32, 64, 96, 128, 160, 224, 288, 1024];

    private static void AssertSameBits(float expected, float actual, string what)
        => Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
            $"{what}: {expected:R} vs {actual:R}");

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void DotRowMatchesReference(GgmlType type)
    {
        var rng = new Random(77 + (int)type);
        foreach (int n in Lengths(type))
        {
            for (int trial = 0; trial < 4; trial++)
            {
                var w = TestData.Blocks(rng, type, n);
                var a = TestData.Activation(rng, type, n);
                var (expected, magnitude) = Reference.Dot(type, w, a, n);
                float actual = MatMul.DotRow(type, w, a, n);
                Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude + 1e-30,
                    $"{type} n={n}: expected {expected}, got {actual} (terms {magnitude})");
            }
        }
    }

    [AcceleratedTheory]
    [MemberData(nameof(WeightTypes))]
    public void ScalarAndSimdKernelsAgreeBitForBit(GgmlType type)
    {
        var rng = new Random(99 + (int)type);
        foreach (int n in Lengths(type))
        {
            for (int trial = 0; trial < 4; trial++)
            {
                var w = TestData.Blocks(rng, type, n);
                var a = TestData.Activation(rng, type, n);
                float scalar = MatMul.DotRow(type, w, a, n, SimdLevel.Scalar);
                foreach (var level in SimdLevels.Vector)
                    AssertSameBits(scalar, MatMul.DotRow(type, w, a, n, level), $"{type} {level} n={n}");
            }
        }
    }

    /// <summary>With unit scales and no mins every float step is exact, so the result is the integer dot itself.</summary>
    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void UnitScalesGiveTheExactIntegerDot(GgmlType type)
    {
        if (MatMul.ActivationType(type) == GgmlType.F32)
            return;
        var rng = new Random(5 + (int)type);
        var at = MatMul.ActivationType(type);
        int n = Reference.BlockSize(type) == 256 ? 768 : 320;
        var w = TestData.Blocks(rng, type, n);
        var a = TestData.Activation(rng, type, n);
        int wb = Reference.BlockBytes(type), ab = Reference.BlockBytes(at), bs = Reference.BlockSize(type);
        for (int blk = 0; blk < n / bs; blk++)
        {
            switch (type)
            {
                case GgmlType.Q6_K:
                    BitConverter.TryWriteBytes(w.AsSpan(blk * wb + 208), (Half)1f);
                    break;
                case GgmlType.Q4_K or GgmlType.Q5_K:
                    BitConverter.TryWriteBytes(w.AsSpan(blk * wb), (Half)1f);
                    BitConverter.TryWriteBytes(w.AsSpan(blk * wb + 2), (Half)0f);
                    break;
                default:
                    BitConverter.TryWriteBytes(w.AsSpan(blk * wb), (Half)1f);
                    if (type is GgmlType.Q4_1 or GgmlType.Q5_1)
                        BitConverter.TryWriteBytes(w.AsSpan(blk * wb + 2), (Half)0f);
                    break;
            }
        }
        for (int blk = 0; blk < n / Reference.BlockSize(at); blk++)
        {
            if (at == GgmlType.Q8_K)
                BitConverter.TryWriteBytes(a.AsSpan(blk * ab), 1f);
            else
                BitConverter.TryWriteBytes(a.AsSpan(blk * ab), (Half)1f);
        }
        MatMul.FillActivationTail(type, a, n);
        long exact = 0;
        for (int blk = 0; blk < n / bs; blk++)
        {
            var b = w.AsSpan(blk * wb, wb).ToArray();
            for (int e = 0; e < bs; e++)
            {
                int ae = blk * bs + e, ablk = ae / Reference.BlockSize(at);
                var ablock = a.AsSpan(ablk * ab, ab).ToArray();
                int scale = type switch
                {
                    GgmlType.Q4_K or GgmlType.Q5_K => Reference.ScaleMin(b, 4, e / 32).Scale,
                    GgmlType.Q6_K => (sbyte)b[192 + e / 16],
                    _ => 1,
                };
                exact += (long)scale * Reference.Quant(type, b, e) * Reference.Quant(at, ablock, ae % Reference.BlockSize(at));
            }
        }
        Assert.True(Math.Abs(exact) < 1 << 22, "test data keeps partial sums exact in float");
        foreach (var level in SimdLevels.All)
            Assert.Equal((float)exact, MatMul.DotRow(type, w, a, n, level));
    }

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void RowsMatchDotRowForEverySequenceCount(GgmlType type)
    {
        var rng = new Random(31 + (int)type);
        int n = Reference.BlockSize(type) == 256 ? 512 : 160;
        // 7 rows: one short group for kernels that take rows eight at a time; 21: whole groups and a tail.
        foreach (int rows in new[] { 7, 21 })
            RowsMatchDotRow(type, rng, n, rows);
    }

    private static void RowsMatchDotRow(GgmlType type, Random rng, int n, int rows)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, n) + 6; // padded rows
        var w = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
            TestData.Blocks(rng, type, n).CopyTo(w, r * rowBytes);
        int actBytes = MatMul.ActivationRowBytes(type, n);
        foreach (var level in SimdLevels.All)
        {
            foreach (int nSeq in new[] { 1, 2, 3, 4, 5, 9 })
            {
                var act = new byte[nSeq * actBytes];
                for (int s = 0; s < nSeq; s++)
                    TestData.Activation(rng, type, n).CopyTo(act, s * actBytes);
                int yStride = rows + 3;
                var y = new float[nSeq * yStride];
                y.AsSpan().Fill(float.NaN);
                MatMul.Rows(type, w, rowBytes, n, act, nSeq, y, yStride, 1, rows);
                MatMul.Rows(type, w, rowBytes, n, act, nSeq, y, yStride, 1, rows, level);
                for (int s = 0; s < nSeq; s++)
                {
                    Assert.True(float.IsNaN(y[s * yStride]), "row before rowStart untouched");
                    for (int r = 1; r < rows; r++)
                    {
                        float expected = MatMul.DotRow(type, w.AsSpan((int)(r * rowBytes), (int)rowBytes), act.AsSpan(s * actBytes, actBytes), n, level);
                        AssertSameBits(expected, y[s * yStride + r], $"{type} {level} nSeq={nSeq} s={s} r={r}");
                    }
                }
            }
        }
    }

    /// <summary>
    /// Float weights tile up to eight weight rows × four activation rows in registers; every leftover row
    /// and activation count, with and without an element tail, must give each dot the same bits as a lone dot.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void FloatTilesMatchDotRowForEveryShape(GgmlType type)
    {
        var rng = new Random(13 + (int)type);
        const int rows = 19;
        foreach (int n in new[] { 5, 72, 203 })
        {
            long rowBytes = GgmlTypeInfo.RowBytes(type, n) + 4;
            var w = new byte[rows * rowBytes];
            for (int r = 0; r < rows; r++)
                TestData.Blocks(rng, type, n).CopyTo(w, r * rowBytes);
            int actBytes = MatMul.ActivationRowBytes(type, n);
            const int maxSeq = 13;
            var act = new byte[maxSeq * actBytes];
            for (int s = 0; s < maxSeq; s++)
                TestData.Activation(rng, type, n).CopyTo(act, s * actBytes);
            var expected = new float[maxSeq, rows];
            for (int s = 0; s < maxSeq; s++)
                for (int r = 0; r < rows; r++)
                    expected[s, r] = MatMul.DotRow(type, w.AsSpan((int)(r * rowBytes), (int)rowBytes), act.AsSpan(s * actBytes, actBytes), n, SimdLevel.Scalar);
            foreach (var level in SimdLevels.All)
                for (int nSeq = 1; nSeq <= maxSeq; nSeq++)
                    for (int rowEnd = 1; rowEnd <= rows; rowEnd++)
                    {
                        var y = new float[nSeq * rows];
                        y.AsSpan().Fill(float.NaN);
                        MatMul.Rows(type, w, rowBytes, n, act.AsSpan(0, nSeq * actBytes), nSeq, y, rows, rowEnd / 3, rowEnd, level);
                        for (int s = 0; s < nSeq; s++)
                            for (int r = 0; r < rows; r++)
                            {
                                if (r < rowEnd / 3 || r >= rowEnd)
                                    Assert.True(float.IsNaN(y[s * rows + r]), "rows outside the range untouched");
                                else
                                    AssertSameBits(expected[s, r], y[s * rows + r], $"{type} n={n} {level} nSeq={nSeq} rows {rowEnd / 3}..{rowEnd} s={s} r={r}");
                            }
                    }
        }
    }

    [Fact]
    public void ActivationQ8_0RoundsHalfToEvenWithInverseFromAmax()
    {
        var x = new float[32];
        x[0] = 127f; // amax 127: id = 1
        x[1] = 2.5f;
        x[2] = -3.5f;
        x[3] = 0.5f;
        var act = new byte[MatMul.ActivationRowBytes(GgmlType.Q8_0, 32)];
        MatMul.QuantizeActivation(GgmlType.Q8_0, x, act);
        Assert.Equal((Half)1f, BitConverter.ToHalf(act, 0));
        Assert.Equal(127, (sbyte)act[2]);
        Assert.Equal(2, (sbyte)act[3]);
        Assert.Equal(-4, (sbyte)act[4]);
        Assert.Equal(0, (sbyte)act[5]);
        // Weights use the roundf reference instead.
        var weights = new byte[34];
        Quantize.Row(GgmlType.Q8_0, x, weights);
        Assert.Equal(3, (sbyte)weights[3]);
        Assert.Equal(-4, (sbyte)weights[4]);
        Assert.Equal(1, (sbyte)weights[5]);
    }

    [Fact]
    public void ActivationQ8_1CarriesScaledSum()
    {
        var rng = new Random(3);
        var x = TestData.Floats(rng, 64);
        var act = new byte[MatMul.ActivationRowBytes(GgmlType.Q4_1, 64)];
        Assert.Equal(72, act.Length);
        MatMul.QuantizeActivation(GgmlType.Q4_1, x, act);
        for (int blk = 0; blk < 2; blk++)
        {
            float amax = 0;
            int sum = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(x[32 * blk + j]));
            for (int j = 0; j < 32; j++)
            {
                int q = (sbyte)act[36 * blk + 4 + j];
                Assert.Equal((int)MathF.Round(x[32 * blk + j] * (127f / amax)), q);
                sum += q;
            }
            Assert.Equal((Half)(amax / 127f), BitConverter.ToHalf(act, 36 * blk));
            Assert.Equal((Half)(amax / 127f * sum), BitConverter.ToHalf(act, 36 * blk + 2));
        }
    }

    [Fact]
    public void ActivationQ8_KMapsLargestToMinus127AndKeepsBlockSums()
    {
        var rng = new Random(4);
        var x = TestData.Floats(rng, 512);
        x[300] = 50f;
        var act = new byte[MatMul.ActivationRowBytes(GgmlType.Q6_K, 512)];
        Assert.Equal(2 * 292, act.Length);
        MatMul.QuantizeActivation(GgmlType.Q6_K, x, act);
        Assert.Equal(-127, (sbyte)act[292 + 4 + 44]);
        Assert.Equal(-50f / 127f, BitConverter.ToSingle(act, 292), 6);
        var y = new float[512];
        Dequantize.Row(GgmlType.Q8_K, act, y);
        for (int i = 0; i < 512; i++)
            Assert.True(Math.Abs(y[i] - x[i]) <= 0.5001f * Math.Abs(BitConverter.ToSingle(act, 292 * (i / 256))), $"element {i}");
        for (int blk = 0; blk < 2; blk++)
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += (sbyte)act[292 * blk + 4 + 16 * j + l];
                Assert.Equal(sum, BitConverter.ToInt16(act, 292 * blk + 260 + 2 * j));
            }
    }

    [Fact]
    public void F16ActivationsAreRoundedToHalf()
    {
        float[] x = [1.00048828125f, 3.14159f, -2.71828f, 1e-9f, 0, 0, 0, 0];
        var act = new byte[MatMul.ActivationRowBytes(GgmlType.F16, x.Length)];
        MatMul.QuantizeActivation(GgmlType.F16, x, act);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal((float)(Half)x[i], BitConverter.ToSingle(act, 4 * i));
        MatMul.QuantizeActivation(GgmlType.F32, x, act);
        Assert.Equal(3.14159f, BitConverter.ToSingle(act, 4));
    }

    [Fact]
    public void QuantizedMatVecApproximatesFloatMatVec()
    {
        var rng = new Random(8);
        int n = 512;
        var wf = TestData.Floats(rng, n, 0.05f);
        var x = TestData.Floats(rng, n);
        double exact = 0, mag = 0;
        for (int i = 0; i < n; i++) { exact += (double)wf[i] * x[i]; mag += Math.Abs((double)wf[i] * x[i]); }
        foreach (var type in TestData.WeightTypes)
        {
            var w = new byte[GgmlTypeInfo.RowBytes(type, n)];
            Quantize.Row(type, wf, w);
            var act = new byte[MatMul.ActivationRowBytes(type, n)];
            MatMul.QuantizeActivation(type, x, act);
            float got = MatMul.DotRow(type, w, act, n);
            double tol = type switch { GgmlType.F32 => 1e-6, GgmlType.F16 => 2e-3, GgmlType.BF16 => 1e-2, GgmlType.Q8_0 => 2e-2, _ => 8e-2 };
            Assert.True(Math.Abs(got - exact) <= tol * mag, $"{type}: {got} vs {exact} (terms {mag})");
        }
    }

    [Fact]
    public void RejectsBadShapes()
    {
        Assert.Throws<NotSupportedException>(() => MatMul.ActivationType(GgmlType.Q8_K));
        Assert.Throws<ArgumentException>(() => MatMul.ActivationRowBytes(GgmlType.Q4_K, 100));
        Assert.Throws<ArgumentException>(() => MatMul.DotRow(GgmlType.Q4_0, new byte[17], new byte[34], 32));
        Assert.Throws<ArgumentException>(() => MatMul.DotRow(GgmlType.Q4_0, new byte[18], new byte[33], 32));
        Assert.Throws<ArgumentException>(() => MatMul.Rows(GgmlType.Q4_0, new byte[18], 18, 32, new byte[34], 1, new float[2], 2, 0, 2));
    }
}
