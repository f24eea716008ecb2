using System.Runtime.Intrinsics;
using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

public class FastExpTests
{
    [Fact]
    public void Stays_within_half_the_tolerance_of_MathF_Exp_on_every_97th_float_from_zero_to_below_underflow()
    {
        // The sampler's arguments, (x - max) / T, are never positive; a stride prime to the mantissa
        // walks every binade of that range. Flushed results (below 2^-126) may be off by that much.
        var worst = 0.0;
        Span<float> lanes = stackalloc float[Vector256<float>.Count];
        var bits = BitConverter.SingleToUInt32Bits(-0f);
        var last = BitConverter.SingleToUInt32Bits(-110f);
        while (bits <= last)
        {
            for (var j = 0; j < lanes.Length; j++, bits += 97) lanes[j] = BitConverter.UInt32BitsToSingle(Math.Min(bits, last));
            var e = FastExp.Exp(Vector256.Create<float>(lanes));
            for (var j = 0; j < lanes.Length; j++)
            {
                var exact = MathF.Exp(lanes[j]);
                var error = Math.Abs((double)e[j] - exact);
                Assert.True(error <= exact * SoftmaxKernels.ExpTolerance / 2 || (lanes[j] < -87.3f && error <= MathF.Exp(-87.3f)),
                    $"exp({lanes[j]:R}): {e[j]:R} vs {exact:R}");
                if (lanes[j] >= -87.3f) worst = Math.Max(worst, error / exact);
            }
        }
        // Not a loose kernel passing a loose bound: what was measured on every float of the range.
        Assert.True(worst <= 1.0 / (1 << 23) * 1.0000001, $"worst relative error {worst:E3}");
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(float.NegativeInfinity, 0f)]
    [InlineData(float.MinValue, 0f)]
    [InlineData(-87.31f, 0f)]
    [InlineData(-1e-30f, 1f)]
    public void Edges_give_exact_results(float x, float expected) =>
        Assert.Equal(expected, FastExp.Exp(Vector256.Create(x)).GetElement(3));

    [Fact]
    public void NaN_stays_NaN_as_in_MathF_Exp() =>
        Assert.True(float.IsNaN(FastExp.Exp(Vector256.Create(float.NaN)).GetElement(0)));

    [Fact]
    public void Lanes_are_independent()
    {
        float[] x = [-0f, float.NaN, -1f, float.NegativeInfinity, -20f, -90f, -0.5f, -87f];
        var e = FastExp.Exp(Vector256.Create<float>(x));
        for (var j = 0; j < x.Length; j++)
        {
            if (float.IsNaN(x[j])) Assert.True(float.IsNaN(e[j]));
            else Assert.Equal(MathF.Exp(x[j]), e[j], MathF.Exp(x[j]) * 2.4e-7f + 1.2e-38f);
        }
    }

    [Fact]
    public void A_pair_gives_each_lane_the_bits_of_Exp_and_the_floor_below_the_normal_range()
    {
        // Every 89th float from 0 down past the normal range in one lane order, the other lane order reversed,
        // so each argument meets different neighbours in the two vectors.
        Span<float> a = stackalloc float[Vector256<float>.Count];
        Span<float> b = stackalloc float[Vector256<float>.Count];
        var first = BitConverter.SingleToUInt32Bits(-0f);
        var last = BitConverter.SingleToUInt32Bits(-110f);
        var floor = FastExp.Exp(Vector256.Create(FastExp.NormalMin)).GetElement(0);
        Assert.True(floor > 0f && floor < MathF.Pow(2, -125.9f));
        for (var bits = first; bits <= last; bits += 89 * (uint)a.Length)
        {
            for (var j = 0; j < a.Length; j++)
            {
                a[j] = BitConverter.UInt32BitsToSingle(Math.Min(bits + 89 * (uint)j, last));
                b[a.Length - 1 - j] = a[j];
            }
            var (x, y) = FastExp.ExpPair(Vector256.Create<float>(a), Vector256.Create<float>(b));
            var ex = FastExp.Exp(Vector256.Create<float>(a));
            var ey = FastExp.Exp(Vector256.Create<float>(b));
            for (var j = 0; j < a.Length; j++)
            {
                Assert.Equal(a[j] >= FastExp.NormalMin ? ex[j] : floor, x[j]);
                Assert.Equal(b[j] >= FastExp.NormalMin ? ey[j] : floor, y[j]);
            }
        }
        var (inf, zero) = FastExp.ExpPair(Vector256.Create(float.NegativeInfinity), Vector256.Create(-0f));
        Assert.Equal(floor, inf.GetElement(5));
        Assert.Equal(1f, zero.GetElement(2));
    }
}
