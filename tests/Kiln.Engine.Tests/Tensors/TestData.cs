using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

/// <summary>Deterministic random rows and blocks with finite scales.</summary>
internal static class TestData
{
    public static readonly GgmlType[] QuantTypes =
    [
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K, GgmlType.IQ4_NL,
    ];

    public static readonly GgmlType[] WeightTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16,
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL,
    ];

    public static TheoryData<GgmlType> Types(GgmlType[] types)
    {
        var d = new TheoryData<GgmlType>();
        foreach (var t in types) d.Add(t);
        return d;
    }

    public static float[] Floats(Random rng, int n, float scale = 1f)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            // A mix of spreads so blocks see outliers as real activations do.
            double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            x[i] = (float)(g * scale * (rng.Next(8) == 0 ? 4 : 1));
        }
        return x;
    }

    private static void PutHalf(byte[] b, int off, float v) => BitConverter.TryWriteBytes(b.AsSpan(off), (Half)v);

    private static float RandScale(Random rng, bool signed) =>
        (float)((signed && rng.Next(2) == 0 ? -1 : 1) * Math.Pow(2, -12 + 12 * rng.NextDouble()));

    /// <summary>Random block bytes for any type, with every scale field a finite value.</summary>
    public static byte[] Blocks(Random rng, GgmlType t, int n)
    {
        var (bs, bb) = GgmlTypeInfo.Layout(t)!.Value;
        var data = new byte[n / bs * bb];
        rng.NextBytes(data);
        for (int blk = 0; blk < n / bs; blk++)
        {
            int o = blk * bb;
            switch (t)
            {
                case GgmlType.F32:
                    BitConverter.TryWriteBytes(data.AsSpan(o), (float)(rng.NextDouble() * 2 - 1));
                    break;
                case GgmlType.F16:
                    PutHalf(data, o, (float)(rng.NextDouble() * 2 - 1));
                    break;
                case GgmlType.BF16:
                    data[o + 1] = (byte)(data[o + 1] & 0xBF); // exponent < 128: finite
                    break;
                case GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q8_1 or GgmlType.Q4_K or GgmlType.Q5_K:
                    PutHalf(data, o, RandScale(rng, true));
                    PutHalf(data, o + 2, RandScale(rng, true));
                    break;
                case GgmlType.Q6_K:
                    PutHalf(data, o + 208, RandScale(rng, true));
                    break;
                case GgmlType.Q8_K:
                    BitConverter.TryWriteBytes(data.AsSpan(o), RandScale(rng, true));
                    FixBsums(data, o);
                    break;
                default:
                    PutHalf(data, o, RandScale(rng, true));
                    break;
            }
        }
        return data;
    }

    /// <summary>Sets a Q8_K block's bsums from its quants, as a real quantizer would.</summary>
    public static void FixBsums(byte[] data, int o)
    {
        for (int j = 0; j < 16; j++)
        {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += (sbyte)data[o + 4 + 16 * j + l];
            BitConverter.TryWriteBytes(data.AsSpan(o + 260 + 2 * j), (short)sum);
        }
    }

    /// <summary>A random activation row in the weight type's format (quants in -127..127).</summary>
    public static byte[] Activation(Random rng, GgmlType weightType, int n)
    {
        var at = MatMul.ActivationType(weightType);
        if (at == GgmlType.F32)
        {
            var x = new byte[MatMul.ActivationRowBytes(weightType, n)];
            MatMul.QuantizeActivation(weightType, Floats(rng, n), x);
            return x;
        }
        var a = Blocks(rng, at, n);
        var (bs, bb) = GgmlTypeInfo.Layout(at)!.Value;
        int qOff = at switch { GgmlType.Q8_0 => 2, GgmlType.Q8_1 => 4, _ => 4 };
        for (int blk = 0; blk < n / bs; blk++)
        {
            for (int e = 0; e < bs; e++)
                if (a[blk * bb + qOff + e] == 0x80) a[blk * bb + qOff + e] = 0x81;
            if (at == GgmlType.Q8_K) FixBsums(a, blk * bb);
        }
        // Q8_0 activation rows carry derived per-block scales and sums after their blocks.
        Array.Resize(ref a, MatMul.ActivationRowBytes(weightType, n));
        MatMul.FillActivationTail(weightType, a, n);
        return a;
    }
}
