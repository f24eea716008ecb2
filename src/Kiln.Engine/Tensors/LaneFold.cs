using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Tensors;

/// <summary>
/// The fixed order in which kernels with eight float lanes per dot reduce them: t_j = l_j + l_j+4, then
/// (t0 + t2) + (t1 + t3). The vector and scalar forms give the same bits, which the scalar mirrors rely on.
/// </summary>
internal static unsafe class LaneFold
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fold(Vector256<float> lanes)
    {
        var t = lanes.GetLower() + lanes.GetUpper();
        return (t.GetElement(0) + t.GetElement(2)) + (t.GetElement(1) + t.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fold(float* lane)
    {
        float t0 = lane[0] + lane[4], t1 = lane[1] + lane[5], t2 = lane[2] + lane[6], t3 = lane[3] + lane[7];
        return (t0 + t2) + (t1 + t3);
    }
}
