using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Engine.Tensors;

/// <summary>Small float kernels of the forward pass outside the matmuls.</summary>
internal static class VectorMath
{
    /// <summary>RMS normalization times a weight; the sum of squares in double as llama.cpp does.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        double sum = 0;
        var i = 0;
        ref var rx = ref MemoryMarshal.GetReference(x);
        if (Vector256.IsHardwareAccelerated)
        {
            var lo = Vector256<double>.Zero;
            var hi = Vector256<double>.Zero;
            for (; i <= x.Length - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref rx, (nuint)i);
                var (a, b) = Vector256.Widen(v * v);
                lo += a;
                hi += b;
            }
            sum = Vector256.Sum(lo + hi);
        }
        for (; i < x.Length; i++) sum += x[i] * x[i];
        var scale = 1.0f / MathF.Sqrt((float)(sum / x.Length) + eps);
        i = 0;
        ref var rw = ref MemoryMarshal.GetReference(weight);
        ref var ry = ref MemoryMarshal.GetReference(y);
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(scale);
            for (; i <= x.Length - 8; i += 8)
                (Vector256.LoadUnsafe(ref rx, (nuint)i) * vs * Vector256.LoadUnsafe(ref rw, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = x[i] * scale * weight[i];
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var n = a.Length;
        var i = 0;
        var acc = Vector<float>.Zero;
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            acc += Vector.LoadUnsafe(ref ra, (nuint)i) * Vector.LoadUnsafe(ref rb, (nuint)i);
        var s = Vector.Sum(acc);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>y += a * x.</summary>
    public static void AddScaled(Span<float> y, ReadOnlySpan<float> x, float a)
    {
        var n = y.Length;
        var i = 0;
        var va = new Vector<float>(a);
        ref var ry = ref MemoryMarshal.GetReference(y);
        ref var rx = ref MemoryMarshal.GetReference(x);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var r = Vector.LoadUnsafe(ref ry, (nuint)i) + va * Vector.LoadUnsafe(ref rx, (nuint)i);
            r.StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    public static void Add(Span<float> y, ReadOnlySpan<float> x)
    {
        var i = 0;
        ref var ry = ref MemoryMarshal.GetReference(y);
        ref var rx = ref MemoryMarshal.GetReference(x);
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            (Vector.LoadUnsafe(ref ry, (nuint)i) + Vector.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        for (; i < y.Length; i++) y[i] += x[i];
    }

    /// <summary>gate = silu(gate) * up; eight at a time through a vector exp (within an ulp of the scalar one).</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        var i = 0;
        ref var rg = ref MemoryMarshal.GetReference(gate);
        ref var ru = ref MemoryMarshal.GetReference(up);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= gate.Length - 8; i += 8)
            {
                var g = Vector256.LoadUnsafe(ref rg, (nuint)i);
                (g / (Vector256<float>.One + Vector256.Exp(-g)) * Vector256.LoadUnsafe(ref ru, (nuint)i)).StoreUnsafe(ref rg, (nuint)i);
            }
        }
        for (; i < gate.Length; i++)
        {
            var g = gate[i];
            gate[i] = g / (1.0f + MathF.Exp(-g)) * up[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(ReadOnlySpan<float> x)
    {
        var m = float.NegativeInfinity;
        foreach (var v in x) m = MathF.Max(m, v);
        return m;
    }
}
