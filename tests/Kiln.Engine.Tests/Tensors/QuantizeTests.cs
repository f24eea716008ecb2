using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class QuantizeTests
{
    /// <summary>Round-trip RMS error relative to the data's RMS, for unit Gaussians with outliers.</summary>
    public static TheoryData<GgmlType, double> Bounds => new()
    {
        { GgmlType.F32, 0 },
        { GgmlType.F16, 0.0004 },
        { GgmlType.BF16, 0.003 },
        { GgmlType.Q8_0, 0.0095 },
        { GgmlType.Q8_K, 0.015 },
        { GgmlType.Q6_K, 0.031 },
        { GgmlType.Q5_0, 0.075 },
        { GgmlType.Q5_1, 0.062 },
        { GgmlType.Q5_K, 0.058 },
        { GgmlType.Q4_0, 0.15 },
        { GgmlType.Q4_1, 0.125 },
        { GgmlType.Q4_K, 0.114 },
        { GgmlType.IQ4_NL, 0.122 },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void RoundTripErrorIsBounded(GgmlType type, double maxRelativeRms)
    {
        var rng = new Random(2024 + (int)type);
        int n = 256 * 16;
        var x = TestData.Floats(rng, n);
        var q = new byte[GgmlTypeInfo.RowBytes(type, n)];
        Quantize.Row(type, x, q);
        var y = new float[n];
        Dequantize.Row(type, q, y);
        double err = 0, sig = 0;
        for (int i = 0; i < n; i++)
        {
            err += (double)(x[i] - y[i]) * (x[i] - y[i]);
            sig += (double)x[i] * x[i];
        }
        double rel = Math.Sqrt(err / sig);
        Assert.True(rel <= maxRelativeRms, $"{type}: relative RMS error {rel:F5} > {maxRelativeRms}");
        // The decoder of the reference must agree, so the bytes really are the ggml layout.
        var r = Reference.Dequantize(type, q, n);
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(r[i] - y[i]) <= 1e-6f * Math.Max(1f, Math.Abs(r[i])));
    }

    [Theory]
    [MemberData(nameof(Bounds))]
    public void ZerosStayZero(GgmlType type, double unused)
    {
        _ = unused;
        int n = 256;
        var q = new byte[GgmlTypeInfo.RowBytes(type, n)];
        Quantize.Row(type, new float[n], q);
        var y = new float[n];
        Dequantize.Row(type, q, y);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Q4_0MapsTheLargestMagnitudeToMinus8()
    {
        var x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = (i - 10) * 0.25f; // largest magnitude 5.25 at i = 31
        var q = new byte[18];
        Quantize.Row(GgmlType.Q4_0, x, q);
        Assert.Equal((Half)(5.25f / -8), BitConverter.ToHalf(q, 0));
        Assert.Equal(0, q[2 + 15] >> 4); // element 31 -> quant 0 (value -8)
        var y = new float[32];
        Dequantize.Row(GgmlType.Q4_0, q, y);
        Assert.Equal(5.25f, y[31], 2);
    }

    [Fact]
    public void Q5_KSetsHighBits()
    {
        var x = new float[256];
        for (int i = 0; i < 256; i++) x[i] = i % 32; // each sub-block 0..31 needs all 5 bits
        var q = new byte[176];
        Quantize.Row(GgmlType.Q5_K, x, q);
        var y = new float[256];
        Dequantize.Row(GgmlType.Q5_K, q, y);
        for (int i = 0; i < 256; i++)
            Assert.True(Math.Abs(y[i] - x[i]) < 0.3f, $"element {i}: {y[i]} vs {x[i]}");
    }

    [Fact]
    public void Iq4NlUsesTheCodebook()
    {
        var x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = Reference.Iq4Values[i % 16] / 127f;
        var q = new byte[18];
        Quantize.Row(GgmlType.IQ4_NL, x, q);
        var y = new float[32];
        Dequantize.Row(GgmlType.IQ4_NL, q, y);
        for (int i = 0; i < 32; i++)
            Assert.True(Math.Abs(y[i] - x[i]) < 1e-3f, $"element {i}: {y[i]} vs {x[i]}");
    }
}
