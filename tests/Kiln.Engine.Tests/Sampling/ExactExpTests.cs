using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Engine.Sampling;

namespace Kiln.Engine.Tests.Sampling;

public class ExactExpTests
{
    [Fact]
    public void Is_exact_wherever_vectors_and_fma_are_available()
    {
        // The sampler's fast exact tiers (and the figures in the bench README) rest on this.
        Assert.Equal(Vector256.IsHardwareAccelerated && Fma.IsSupported, ExactExp.IsExact);
    }

    [ExactExpFact]
    public void Matches_MathF_Exp_bit_for_bit_on_every_97th_float_from_zero_to_below_underflow()
    {
        // The sampler's arguments, (x - max) / T, are never positive; this walks their whole range,
        // normal and subnormal results and the underflow to zero, at a stride prime to the mantissa.
        var inputs = new List<float>();
        for (var bits = BitConverter.SingleToUInt32Bits(-0f); bits <= BitConverter.SingleToUInt32Bits(-110f); bits += 97)
            inputs.Add(BitConverter.UInt32BitsToSingle(bits));
        AssertMatches(inputs);
    }

    [ExactExpFact]
    public void Matches_MathF_Exp_on_every_float_near_the_rounding_edges()
    {
        var inputs = new List<float>();
        // Every float around the subnormal bound, the underflow to zero, the overflow and 0.
        foreach (var centre in new[] { -87.33655f, -103.27893f, -103.97208f, 88.72283f, 0f, -1f })
        {
            var bits = BitConverter.SingleToInt32Bits(centre);
            for (var d = -20_000; d <= 20_000; d++) inputs.Add(BitConverter.Int32BitsToSingle(bits + d));
        }
        inputs.AddRange([0f, -0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, float.MinValue, float.MaxValue, float.Epsilon, -float.Epsilon, -1e-30f]);
        AssertMatches(inputs);
    }

    [ExactExpFact]
    public void Matches_MathF_Exp_on_inputs_whose_exponential_is_nearly_a_tie_between_two_floats()
    {
        // Inputs whose double exponential is within 1/64 ulp of a float midpoint: the lanes the scalar path takes, and their neighbours.
        var inputs = new List<float>();
        var rng = new Xoshiro256(13);
        while (inputs.Count < 20_000)
        {
            var x = (float)(-30 * rng.NextDouble());
            var e = Math.Exp(x);
            var low = BitConverter.DoubleToInt64Bits(e) & ((1L << 29) - 1);
            if (Math.Abs(low - (1L << 28)) < 1L << 23) inputs.Add(x);
        }
        AssertMatches(inputs);
    }

    [ExactExpFact]
    public void Exact_weights_equal_the_scalar_ones_with_thresholds_and_temperature()
    {
        var rng = new Xoshiro256(5);
        var x = new float[32_003];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 40 - 30);
        x[7] = float.NegativeInfinity;
        x[8] = float.NaN;
        var max = SoftmaxKernels.Max(x);
        var w = new float[x.Length];
        var blocks = new double[(x.Length + SoftmaxKernels.Block - 1) / SoftmaxKernels.Block];
        foreach (var (invT, threshold) in new[] { (1f, float.MinValue), (1.25f, float.MinValue), (10f, max - 3f) })
        {
            var total = SoftmaxKernels.ExpWeights(x, max, invT, threshold, w, blocks, SoftmaxKernels.ExpKind.Exact);
            double expected = 0;
            for (var i = 0; i < x.Length; i++)
            {
                var e = x[i] >= threshold ? MathF.Exp((x[i] - max) * invT) : 0f;
                Assert.Equal(BitConverter.SingleToUInt32Bits(e), BitConverter.SingleToUInt32Bits(w[i]));
                expected += e;
            }
            Assert.Equal(expected, total, expected * 1e-12);
        }
    }

    private static void AssertMatches(List<float> inputs)
    {
        if (ExactExp.Matches(inputs.ToArray())) return;
        // Name the first input that differs.
        foreach (var x in inputs)
            Assert.True(ExactExp.Matches([x]), $"exp({x:R}) differs from MathF.Exp: {MathF.Exp(x):R}");
    }
}

/// <summary>A fact about the vectorised exact exponential; skipped where it does not run (no AVX2/FMA).</summary>
public sealed class ExactExpFactAttribute : FactAttribute
{
    public ExactExpFactAttribute()
    {
        if (!ExactExp.IsExact) Skip = "no vectorised exact exponential on this CPU";
    }
}
