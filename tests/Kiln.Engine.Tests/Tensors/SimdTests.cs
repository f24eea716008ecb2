using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

public class SimdTests
{
    [Theory]
    [InlineData(null, SimdLevel.Avx512)]
    [InlineData("", SimdLevel.Avx512)]
    [InlineData(" avx512 ", SimdLevel.Avx512)]
    [InlineData("AVX2", SimdLevel.Avx2)]
    [InlineData("scalar", SimdLevel.Scalar)]
    public void KilnSimdPicksTheNamedLevelOrTheBestSupported(string? value, SimdLevel expected)
        => Assert.Equal(expected, Simd.Configure(value, SimdLevel.Avx512));

    [Theory]
    [InlineData("avx-512")]
    [InlineData("sse")]
    [InlineData("1")]
    public void AnUnknownLevelIsRefusedByName(string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Simd.Configure(value, SimdLevel.Avx512));
        Assert.Contains($"KILN_SIMD={value}", e.Message);
        Assert.Contains("avx512, avx2 or scalar", e.Message);
    }

    [Fact]
    public void ALevelTheCpuLacksIsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Simd.Configure("avx512", SimdLevel.Avx2));
        Assert.Contains("supports up to Avx2", e.Message);
        Assert.Equal(SimdLevel.Scalar, Simd.Configure("scalar", SimdLevel.Scalar));
    }
}
