using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

/// <summary>The kernel levels this CPU runs, so one test run checks every one of them.</summary>
public static class SimdLevels
{
    /// <summary>Every supported level, scalar first.</summary>
    public static SimdLevel[] All { get; } = [.. Enum.GetValues<SimdLevel>().Where(Simd.IsSupported)];

    /// <summary>The supported levels that run vector kernels.</summary>
    public static SimdLevel[] Vector { get; } = [.. All.Where(l => l > SimdLevel.Scalar)];

    /// <summary>The levels as theory data, for tests that run once per level.</summary>
    public static TheoryData<SimdLevel> Data => [.. All];
}
