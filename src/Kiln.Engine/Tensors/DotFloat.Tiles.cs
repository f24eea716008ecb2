using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// The AVX2 register tiles of <see cref="DotFloat"/>: for 1, 2, 3 or 4 activation rows, up to 4, 4, 4 or 3
/// weight rows, so a tile's accumulators and loaded activations fit the 16 ymm registers. Each weight vector
/// (F16 widened once) feeds every activation row and each activation vector every weight row. The row count
/// is a type so the JIT drops the unused rows of a leftover tile.
/// A tile's rows come one from each of R equal contiguous segments of the caller's rows rather than R
/// neighbours: streaming weights from memory, R long sequential streams measured faster than R short ones.
/// </summary>
internal static unsafe partial class DotFloat
{
    /// <summary>R (at most 4) weight rows, rowStep bytes apart, × 1 activation row.</summary>
    private static void Tile1<T, R>(byte* w, nint rowStep, byte* a, nint aStride, int n, float* y, nint yStride, nint yStep)
        where T : struct, IFloatWeight
        where R : struct, ISeqCount
    {
        float* x0 = (float*)a;
        byte* w0 = w;
        byte* w1 = w + 1 * rowStep;
        byte* w2 = w + 2 * rowStep;
        byte* w3 = w + 3 * rowStep;
        Vector256<float> c00 = default, c10 = default, c20 = default, c30 = default;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v0 = Vector256.Load(x0 + i);
            c00 = Fma.MultiplyAdd(T.Load8(w0, i), v0, c00);
            if (R.N > 1)
            {
                c10 = Fma.MultiplyAdd(T.Load8(w1, i), v0, c10);
            }
            if (R.N > 2)
            {
                c20 = Fma.MultiplyAdd(T.Load8(w2, i), v0, c20);
            }
            if (R.N > 3)
            {
                c30 = Fma.MultiplyAdd(T.Load8(w3, i), v0, c30);
            }
        }
        y[0] = Finish<T>(c00, w0, x0, i, n);
        if (R.N > 1)
        {
            y[1 * yStep] = Finish<T>(c10, w1, x0, i, n);
        }
        if (R.N > 2)
        {
            y[2 * yStep] = Finish<T>(c20, w2, x0, i, n);
        }
        if (R.N > 3)
        {
            y[3 * yStep] = Finish<T>(c30, w3, x0, i, n);
        }
    }

    private static void Rows1<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        int seg = nRows / 4;
        for (int j = 0; j < seg; j++)
            Tile1<T, Seq4>(w + j * rowBytes, seg * rowBytes, a, aStride, n, y + j, yStride, seg);
        int r = seg * 4;
        w += r * rowBytes;
        y += r;
        switch (nRows - r)
        {
            case 1: Tile1<T, Seq1>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 2: Tile1<T, Seq2>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 3: Tile1<T, Seq3>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
        }
    }

    /// <summary>R (at most 4) weight rows, rowStep bytes apart, × 2 activation rows.</summary>
    private static void Tile2<T, R>(byte* w, nint rowStep, byte* a, nint aStride, int n, float* y, nint yStride, nint yStep)
        where T : struct, IFloatWeight
        where R : struct, ISeqCount
    {
        float* x0 = (float*)a;
        float* x1 = (float*)(a + 1 * aStride);
        byte* w0 = w;
        byte* w1 = w + 1 * rowStep;
        byte* w2 = w + 2 * rowStep;
        byte* w3 = w + 3 * rowStep;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v0 = Vector256.Load(x0 + i);
            var v1 = Vector256.Load(x1 + i);
            var u0 = T.Load8(w0, i);
            c00 = Fma.MultiplyAdd(u0, v0, c00);
            c01 = Fma.MultiplyAdd(u0, v1, c01);
            if (R.N > 1)
            {
                var u1 = T.Load8(w1, i);
                c10 = Fma.MultiplyAdd(u1, v0, c10);
                c11 = Fma.MultiplyAdd(u1, v1, c11);
            }
            if (R.N > 2)
            {
                var u2 = T.Load8(w2, i);
                c20 = Fma.MultiplyAdd(u2, v0, c20);
                c21 = Fma.MultiplyAdd(u2, v1, c21);
            }
            if (R.N > 3)
            {
                var u3 = T.Load8(w3, i);
                c30 = Fma.MultiplyAdd(u3, v0, c30);
                c31 = Fma.MultiplyAdd(u3, v1, c31);
            }
        }
        y[0] = Finish<T>(c00, w0, x0, i, n);
        y[1 * yStride] = Finish<T>(c01, w0, x1, i, n);
        if (R.N > 1)
        {
            y[1 * yStep] = Finish<T>(c10, w1, x0, i, n);
            y[1 * yStride + 1 * yStep] = Finish<T>(c11, w1, x1, i, n);
        }
        if (R.N > 2)
        {
            y[2 * yStep] = Finish<T>(c20, w2, x0, i, n);
            y[1 * yStride + 2 * yStep] = Finish<T>(c21, w2, x1, i, n);
        }
        if (R.N > 3)
        {
            y[3 * yStep] = Finish<T>(c30, w3, x0, i, n);
            y[1 * yStride + 3 * yStep] = Finish<T>(c31, w3, x1, i, n);
        }
    }

    private static void Rows2<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        int seg = nRows / 4;
        for (int j = 0; j < seg; j++)
            Tile2<T, Seq4>(w + j * rowBytes, seg * rowBytes, a, aStride, n, y + j, yStride, seg);
        int r = seg * 4;
        w += r * rowBytes;
        y += r;
        switch (nRows - r)
        {
            case 1: Tile2<T, Seq1>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 2: Tile2<T, Seq2>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 3: Tile2<T, Seq3>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
        }
    }

    /// <summary>R (at most 4) weight rows, rowStep bytes apart, × 3 activation rows.</summary>
    private static void Tile3<T, R>(byte* w, nint rowStep, byte* a, nint aStride, int n, float* y, nint yStride, nint yStep)
        where T : struct, IFloatWeight
        where R : struct, ISeqCount
    {
        float* x0 = (float*)a;
        float* x1 = (float*)(a + 1 * aStride);
        float* x2 = (float*)(a + 2 * aStride);
        byte* w0 = w;
        byte* w1 = w + 1 * rowStep;
        byte* w2 = w + 2 * rowStep;
        byte* w3 = w + 3 * rowStep;
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default, c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v0 = Vector256.Load(x0 + i);
            var v1 = Vector256.Load(x1 + i);
            var v2 = Vector256.Load(x2 + i);
            var u0 = T.Load8(w0, i);
            c00 = Fma.MultiplyAdd(u0, v0, c00);
            c01 = Fma.MultiplyAdd(u0, v1, c01);
            c02 = Fma.MultiplyAdd(u0, v2, c02);
            if (R.N > 1)
            {
                var u1 = T.Load8(w1, i);
                c10 = Fma.MultiplyAdd(u1, v0, c10);
                c11 = Fma.MultiplyAdd(u1, v1, c11);
                c12 = Fma.MultiplyAdd(u1, v2, c12);
            }
            if (R.N > 2)
            {
                var u2 = T.Load8(w2, i);
                c20 = Fma.MultiplyAdd(u2, v0, c20);
                c21 = Fma.MultiplyAdd(u2, v1, c21);
                c22 = Fma.MultiplyAdd(u2, v2, c22);
            }
            if (R.N > 3)
            {
                var u3 = T.Load8(w3, i);
                c30 = Fma.MultiplyAdd(u3, v0, c30);
                c31 = Fma.MultiplyAdd(u3, v1, c31);
                c32 = Fma.MultiplyAdd(u3, v2, c32);
            }
        }
        y[0] = Finish<T>(c00, w0, x0, i, n);
        y[1 * yStride] = Finish<T>(c01, w0, x1, i, n);
        y[2 * yStride] = Finish<T>(c02, w0, x2, i, n);
        if (R.N > 1)
        {
            y[1 * yStep] = Finish<T>(c10, w1, x0, i, n);
            y[1 * yStride + 1 * yStep] = Finish<T>(c11, w1, x1, i, n);
            y[2 * yStride + 1 * yStep] = Finish<T>(c12, w1, x2, i, n);
        }
        if (R.N > 2)
        {
            y[2 * yStep] = Finish<T>(c20, w2, x0, i, n);
            y[1 * yStride + 2 * yStep] = Finish<T>(c21, w2, x1, i, n);
            y[2 * yStride + 2 * yStep] = Finish<T>(c22, w2, x2, i, n);
        }
        if (R.N > 3)
        {
            y[3 * yStep] = Finish<T>(c30, w3, x0, i, n);
            y[1 * yStride + 3 * yStep] = Finish<T>(c31, w3, x1, i, n);
            y[2 * yStride + 3 * yStep] = Finish<T>(c32, w3, x2, i, n);
        }
    }

    private static void Rows3<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        int seg = nRows / 4;
        for (int j = 0; j < seg; j++)
            Tile3<T, Seq4>(w + j * rowBytes, seg * rowBytes, a, aStride, n, y + j, yStride, seg);
        int r = seg * 4;
        w += r * rowBytes;
        y += r;
        switch (nRows - r)
        {
            case 1: Tile3<T, Seq1>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 2: Tile3<T, Seq2>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 3: Tile3<T, Seq3>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
        }
    }

    /// <summary>R (at most 3) weight rows, rowStep bytes apart, × 4 activation rows.</summary>
    private static void Tile4<T, R>(byte* w, nint rowStep, byte* a, nint aStride, int n, float* y, nint yStride, nint yStep)
        where T : struct, IFloatWeight
        where R : struct, ISeqCount
    {
        float* x0 = (float*)a;
        float* x1 = (float*)(a + 1 * aStride);
        float* x2 = (float*)(a + 2 * aStride);
        float* x3 = (float*)(a + 3 * aStride);
        byte* w0 = w;
        byte* w1 = w + 1 * rowStep;
        byte* w2 = w + 2 * rowStep;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v0 = Vector256.Load(x0 + i);
            var v1 = Vector256.Load(x1 + i);
            var v2 = Vector256.Load(x2 + i);
            var v3 = Vector256.Load(x3 + i);
            var u0 = T.Load8(w0, i);
            c00 = Fma.MultiplyAdd(u0, v0, c00);
            c01 = Fma.MultiplyAdd(u0, v1, c01);
            c02 = Fma.MultiplyAdd(u0, v2, c02);
            c03 = Fma.MultiplyAdd(u0, v3, c03);
            if (R.N > 1)
            {
                var u1 = T.Load8(w1, i);
                c10 = Fma.MultiplyAdd(u1, v0, c10);
                c11 = Fma.MultiplyAdd(u1, v1, c11);
                c12 = Fma.MultiplyAdd(u1, v2, c12);
                c13 = Fma.MultiplyAdd(u1, v3, c13);
            }
            if (R.N > 2)
            {
                var u2 = T.Load8(w2, i);
                c20 = Fma.MultiplyAdd(u2, v0, c20);
                c21 = Fma.MultiplyAdd(u2, v1, c21);
                c22 = Fma.MultiplyAdd(u2, v2, c22);
                c23 = Fma.MultiplyAdd(u2, v3, c23);
            }
        }
        y[0] = Finish<T>(c00, w0, x0, i, n);
        y[1 * yStride] = Finish<T>(c01, w0, x1, i, n);
        y[2 * yStride] = Finish<T>(c02, w0, x2, i, n);
        y[3 * yStride] = Finish<T>(c03, w0, x3, i, n);
        if (R.N > 1)
        {
            y[1 * yStep] = Finish<T>(c10, w1, x0, i, n);
            y[1 * yStride + 1 * yStep] = Finish<T>(c11, w1, x1, i, n);
            y[2 * yStride + 1 * yStep] = Finish<T>(c12, w1, x2, i, n);
            y[3 * yStride + 1 * yStep] = Finish<T>(c13, w1, x3, i, n);
        }
        if (R.N > 2)
        {
            y[2 * yStep] = Finish<T>(c20, w2, x0, i, n);
            y[1 * yStride + 2 * yStep] = Finish<T>(c21, w2, x1, i, n);
            y[2 * yStride + 2 * yStep] = Finish<T>(c22, w2, x2, i, n);
            y[3 * yStride + 2 * yStep] = Finish<T>(c23, w2, x3, i, n);
        }
    }

    private static void Rows4<T>(byte* w, nint rowBytes, int nRows, byte* a, nint aStride, int n, float* y, nint yStride)
        where T : struct, IFloatWeight
    {
        int seg = nRows / 3;
        for (int j = 0; j < seg; j++)
            Tile4<T, Seq3>(w + j * rowBytes, seg * rowBytes, a, aStride, n, y + j, yStride, seg);
        int r = seg * 3;
        w += r * rowBytes;
        y += r;
        switch (nRows - r)
        {
            case 1: Tile4<T, Seq1>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
            case 2: Tile4<T, Seq2>(w, rowBytes, a, aStride, n, y, yStride, 1); break;
        }
    }

}
