using System.Runtime.Intrinsics;
using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class HalfFloatTests
{
    [Fact]
    public void HalfToSingleMatchesBclForAllBitPatterns()
    {
        for (int h = 0; h <= 0xFFFF; h++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float scalar = HalfFloat.ToSingle((ushort)h);
            float vector = HalfFloat.ToSingle(Vector128.Create(h)).GetElement(0);
            float wide = HalfFloat.ToSingle(Vector256.Create(h | unchecked((int)0xABCD0000))).GetElement(3);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(scalar) && float.IsNaN(vector) && float.IsNaN(wide), $"0x{h:X4}");
                continue;
            }
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(scalar));
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(vector));
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(wide));
        }
    }

    [Theory]
    [InlineData(1.0f, 0x3C00)]
    [InlineData(65504f, 0x7BFF)]
    [InlineData(65520f, 0x7C00)] // rounds up to infinity
    [InlineData(5.9604645e-8f, 0x0001)] // smallest subnormal
    [InlineData(1.00048828125f, 0x3C00)] // exact tie: rounds to even
    [InlineData(1.00146484375f, 0x3C02)] // tie, odd below: rounds up
    [InlineData(-2.5f, 0xC100)]
    public void SingleToHalfRoundsToNearestEven(float f, int bits)
        => Assert.Equal((ushort)bits, HalfFloat.FromSingle(f));

    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(1.00390625f, 0x3F80)] // tie: even
    [InlineData(1.01171875f, 0x3F82)] // tie, odd below: up
    [InlineData(-3.0f, 0xC040)]
    public void SingleToBF16RoundsToNearestEven(float f, int bits)
        => Assert.Equal((ushort)bits, HalfFloat.SingleToBF16(f));

    [Fact]
    public void BF16KeepsNaN() => Assert.True(float.IsNaN(HalfFloat.BF16ToSingle(HalfFloat.SingleToBF16(float.NaN))));
}
