using Kiln.Engine.Tensors;

namespace Kiln.Engine.Tests.Tensors;

/// <summary>A theory that needs the AVX2 kernels; skipped where they cannot run.</summary>
public sealed class AcceleratedTheoryAttribute : TheoryAttribute
{
    public AcceleratedTheoryAttribute()
    {
        if (!Simd.IsSupported(SimdLevel.Avx2))
            Skip = "AVX2/FMA not available";
    }
}
