using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class DequantizeTests
{
    public static TheoryData<GgmlType> AllTypes => TestData.Types(
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_1, .. TestData.QuantTypes]);

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void MatchesReferenceOnRandomBlocks(GgmlType type)
    {
        var rng = new Random(1234 + (int)type);
        int n = 256 * 3;
        var data = TestData.Blocks(rng, type, n);
        var expected = Reference.Dequantize(type, data, n);
        var actual = new float[n];
        Dequantize.Row(type, data, actual);
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * Math.Max(1f, Math.Abs(expected[i])),
                $"{type} element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Q4_0KnownBlock()
    {
        var block = new byte[18];
        BitConverter.TryWriteBytes(block, (Half)0.5f);
        block[2] = 0x0F; // element 0 = 15-8 = 7, element 16 = 0-8 = -8
        block[3] = 0x98; // element 1 = 8-8 = 0, element 17 = 9-8 = 1
        var y = new float[32];
        Dequantize.Row(GgmlType.Q4_0, block, y);
        Assert.Equal(3.5f, y[0]);
        Assert.Equal(-4f, y[16]);
        Assert.Equal(0f, y[1]);
        Assert.Equal(0.5f, y[17]);
    }

    [Fact]
    public void RejectsPartialBlocksAndShortSource()
    {
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_0, new byte[18], new float[31]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_0, new byte[17], new float[32]));
        Assert.Throws<NotSupportedException>(() => Dequantize.Row(GgmlType.Q2_K, new byte[1000], new float[256]));
    }
}
