namespace Kiln.Engine.Tensors;

/// <summary>
/// Weight-row × activation-row dot products, the matmul hot path. Activations are first quantized into
/// the weight type's vec_dot format (<see cref="ActivationType"/>), once per row, then dotted against
/// every weight row with integer kernels (AVX2 when available, a scalar path otherwise; both give
/// identical bits). <see cref="Simd.Level"/> picks the kernels.
/// </summary>
public static unsafe class MatMul
{
    /// <summary>True when vector kernels run (<see cref="Simd.Level"/> is above scalar).</summary>
    public static bool IsAccelerated => Simd.Level > SimdLevel.Scalar;

    private const int SeqTile = 4;

    /// <summary>
    /// The activation format a weight type dots against: Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for
    /// Q4_1/Q5_1 (its block sum carries the min term), Q8_K for the K formats, F32 for float weights.
    /// </summary>
    public static GgmlType ActivationType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => GgmlType.F32,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => throw new NotSupportedException($"no dot kernel for weight type {weightType}"),
    };

    /// <summary>Bytes of one quantized activation row of <paramref name="n"/> elements.</summary>
    public static int ActivationRowBytes(GgmlType weightType, int n)
    {
        CheckLength(weightType, n);
        var type = ActivationType(weightType);
        return type == GgmlType.Q8_0
            ? Q8Activation.RowBytes(n / 32)
            : checked((int)GgmlTypeInfo.RowBytes(type, n));
    }

    /// <summary>
    /// Recomputes the derived tail of a Q8_0 activation row (<see cref="Q8Activation"/>) after its blocks
    /// were written directly; other activation formats have none.
    /// </summary>
    internal static void FillActivationTail(GgmlType weightType, Span<byte> activation, int n)
    {
        if (ActivationType(weightType) != GgmlType.Q8_0)
            return;
        if (activation.Length < ActivationRowBytes(weightType, n))
            throw new ArgumentException("activation row too short", nameof(activation));
        fixed (byte* a = activation)
            Q8Activation.FillTail(a, n / 32);
    }

    /// <summary>
    /// Quantizes one activation row for <paramref name="weightType"/>. For float weights the row stays
    /// float, rounded to half (F16) or bfloat16 (BF16) precision as ggml converts it before dotting.
    /// </summary>
    public static void QuantizeActivation(GgmlType weightType, ReadOnlySpan<float> x, Span<byte> dst)
    {
        int bytes = ActivationRowBytes(weightType, x.Length);
        if (dst.Length < bytes)
            throw new ArgumentException($"activation buffer holds {dst.Length} bytes, {bytes} needed", nameof(dst));
        fixed (float* px = x)
        fixed (byte* pd = dst)
        {
            switch (ActivationType(weightType))
            {
                case GgmlType.Q8_0: ActivationQuant.Q8(px, pd, x.Length / 32, withSum: false); break;
                case GgmlType.Q8_1: ActivationQuant.Q8(px, pd, x.Length / 32, withSum: true); break;
                case GgmlType.Q8_K: ActivationQuant.Q8_K(px, pd, x.Length / KQuants.QK); break;
                default: ActivationQuant.RoundFloats(weightType, px, (float*)pd, x.Length); break;
            }
        }
    }

    /// <summary>Dot of one weight row (<paramref name="n"/> elements of block bytes) with one activation row.</summary>
    public static float DotRow(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
        => DotRow(weightType, weightRow, activation, n, Simd.Level);

    internal static float DotRow(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n, SimdLevel level)
    {
        var block = BlockKernel(weightType, level);
        var kernel = block == null ? Kernel(weightType, level) : null;
        CheckRow(weightType, weightRow.Length, n);
        int actBytes = ActivationRowBytes(weightType, n);
        if (activation.Length < actBytes)
            throw new ArgumentException($"activation row holds {activation.Length} bytes, {actBytes} needed", nameof(activation));
        float result;
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
        {
            if (block != null)
                block(w, weightRow.Length, 1, a, actBytes, 1, n, &result, 0);
            else
                kernel(w, a, actBytes, 1, n, &result, 0);
        }
        return result;
    }

    /// <summary>
    /// y[s*yStride + r] = dot(W[r], activation s) for r in [rowStart, rowEnd) and s in [0, nSeq).
    /// <paramref name="weights"/> starts at row 0 of W; activation rows sit back to back, each
    /// <see cref="ActivationRowBytes"/> long. Each weight row is decoded once per group of four activation rows.
    /// </summary>
    public static void Rows(GgmlType weightType, ReadOnlySpan<byte> weights, long rowBytes, int n,
        ReadOnlySpan<byte> activations, int nSeq, Span<float> y, int yStride, int rowStart, int rowEnd)
        => Rows(weightType, weights, rowBytes, n, activations, nSeq, y, yStride, rowStart, rowEnd, Simd.Level);

    internal static void Rows(GgmlType weightType, ReadOnlySpan<byte> weights, long rowBytes, int n,
        ReadOnlySpan<byte> activations, int nSeq, Span<float> y, int yStride, int rowStart, int rowEnd, SimdLevel level)
    {
        if (rowEnd <= rowStart || nSeq <= 0)
            return;
        long weightBytes = (long)(rowEnd - 1) * rowBytes + GgmlTypeInfo.RowBytes(weightType, n);
        if (weightBytes > weights.Length)
            throw new ArgumentException($"weights hold {weights.Length} bytes, rows up to {rowEnd} need {weightBytes}", nameof(weights));
        if ((long)(nSeq - 1) * yStride + rowEnd > y.Length)
            throw new ArgumentException("output too small for nSeq rows of yStride", nameof(y));
        fixed (byte* w = weights)
        fixed (byte* a = activations)
        fixed (float* py = y)
            Rows(weightType, w, rowBytes, n, a, activations.Length, nSeq, py, yStride, rowStart, rowEnd, level);
    }

    /// <summary>
    /// Pointer form of <see cref="Rows(GgmlType, ReadOnlySpan{byte}, long, int, ReadOnlySpan{byte}, int, Span{float}, int, int, int)"/>
    /// for weights beyond a span's reach (memory-mapped tensors). The caller vouches for the weight and output extents.
    /// </summary>
    public static void Rows(GgmlType weightType, byte* weights, long rowBytes, int n,
        ReadOnlySpan<byte> activations, int nSeq, float* y, int yStride, int rowStart, int rowEnd)
    {
        fixed (byte* a = activations)
            Rows(weightType, weights, rowBytes, n, a, activations.Length, nSeq, y, yStride, rowStart, rowEnd, Simd.Level);
    }

    private static void Rows(GgmlType weightType, byte* w, long rowBytes, int n, byte* a, int actLength, int nSeq,
        float* y, int yStride, int rowStart, int rowEnd, SimdLevel level)
    {
        var block = BlockKernel(weightType, level);
        var kernel = block == null ? Kernel(weightType, level) : null;
        CheckRow(weightType, rowBytes, n);
        int actBytes = ActivationRowBytes(weightType, n);
        if ((long)nSeq * actBytes > actLength)
            throw new ArgumentException($"activations hold {actLength} bytes, {nSeq} rows need {(long)nSeq * actBytes}", "activations");
        if (block != null)
        {
            // Walk a tile of weight rows small enough to stay in L2 once with every activation row, so
            // weights stream from memory once; the kernel tiles rows × activations in registers.
            int tile = nSeq <= SeqTile ? rowEnd - rowStart : (int)Math.Clamp(64 * 1024 / rowBytes, 4, 64);
            for (int r0 = rowStart; r0 < rowEnd; r0 += tile)
                block(w + r0 * rowBytes, (nint)rowBytes, Math.Min(tile, rowEnd - r0), a, actBytes, nSeq, n, y + r0, yStride);
            return;
        }
        if (nSeq <= SeqTile)
        {
            for (int r = rowStart; r < rowEnd; r++)
                kernel(w + r * rowBytes, a, actBytes, nSeq, n, y + r, yStride);
            return;
        }
        // Many activation rows: walk a tile of weight rows small enough to stay in L2 once per group of
        // activation rows, so weights are streamed from memory once.
        int rowTile = (int)Math.Clamp(64 * 1024 / rowBytes, 1, 64);
        for (int r0 = rowStart; r0 < rowEnd; r0 += rowTile)
        {
            int r1 = Math.Min(rowEnd, r0 + rowTile);
            for (int s0 = 0; s0 < nSeq; s0 += SeqTile)
            {
                int ns = Math.Min(SeqTile, nSeq - s0);
                byte* aTile = a + (long)s0 * actBytes;
                float* yTile = y + (long)s0 * yStride;
                for (int r = r0; r < r1; r++)
                    kernel(w + r * rowBytes, aTile, actBytes, ns, n, yTile + r, yStride);
            }
        }
    }

    private static void CheckLength(GgmlType weightType, int n)
    {
        var (bs, _) = GgmlTypeInfo.Layout(weightType) ?? throw new NotSupportedException($"tensor type {weightType} is not supported");
        if (n <= 0 || n % bs != 0)
            throw new ArgumentException($"row length {n} is not a whole number of {weightType} blocks", nameof(n));
    }

    private static void CheckRow(GgmlType weightType, long rowBytes, int n)
    {
        CheckLength(weightType, n);
        long need = GgmlTypeInfo.RowBytes(weightType, n);
        if (rowBytes < need)
            throw new ArgumentException($"{weightType} row holds {rowBytes} bytes, {need} needed for {n} elements");
    }

    /// <summary>
    /// The block kernel for <paramref name="weightType"/>, or null where only the row kernel exists. A block
    /// kernel computes y[s*yStride + r] = dot(w + r*rowBytes, a + s*aStride) for every r below nRows and s
    /// below nSeq (any counts), tiling both in registers; the bits of each dot must not depend on the counts.
    /// Arguments: (w, rowBytes, nRows, a, aStride, nSeq, n, y, yStride).
    /// </summary>
    internal static delegate*<byte*, nint, int, byte*, nint, int, int, float*, nint, void> BlockKernel(GgmlType weightType, SimdLevel level)
    {
        bool simd = Vector(level);
        return weightType switch
        {
            GgmlType.Q4_0 => level switch { SimdLevel.Avx512 => &ByteKernel<GemmQ4_0, VnniByteDot>.Block, SimdLevel.Avx2 => &ByteKernel<GemmQ4_0, Avx2ByteDot>.Block, _ => &GemmQ4_0.ScalarBlock },
            GgmlType.Q5_0 => simd ? &Gemm32Q8.Avx2Block<Q5_0Block> : &Gemm32Q8.ScalarBlock<Q5_0Block>,
            GgmlType.Q8_0 => level switch { SimdLevel.Avx512 => &ByteKernel<GemmQ8_0, VnniByteDot>.Block, SimdLevel.Avx2 => &ByteKernel<GemmQ8_0, Avx2ByteDot>.Block, _ => &GemmQ8_0.ScalarBlock },
            GgmlType.IQ4_NL => simd ? &Gemm32Q8.Avx2Block<Iq4NlBlock> : &Gemm32Q8.ScalarBlock<Iq4NlBlock>,
            GgmlType.F32 => simd ? &DotFloat.Avx2Block<F32Weight> : &DotFloat.ScalarBlock<F32Weight>,
            GgmlType.F16 => simd ? &DotFloat.Avx2Block<F16Weight> : &DotFloat.ScalarBlock<F16Weight>,
            GgmlType.BF16 => simd ? &DotFloat.Avx2Block<BF16Weight> : &DotFloat.ScalarBlock<BF16Weight>,
            _ => null,
        };
    }

    /// <summary>The row kernel of a type without a block kernel: y[s*yStride] = dot(w, a + s*aStride) for s below nSeq (at most 4).</summary>
    internal static delegate*<byte*, byte*, nint, int, int, float*, nint, void> Kernel(GgmlType weightType, SimdLevel level)
    {
        bool simd = Vector(level);
        return weightType switch
        {
            GgmlType.Q4_1 => simd ? &Dot32.Avx2Kernel<Q4_1Block> : &Dot32.ScalarKernel<Q4_1Block>,
            GgmlType.Q5_1 => simd ? &Dot32.Avx2Kernel<Q5_1Block> : &Dot32.ScalarKernel<Q5_1Block>,
            GgmlType.Q4_K => simd ? &DotK.Q4KAvx2 : &DotK.Q4KScalar,
            GgmlType.Q5_K => simd ? &DotK.Q5KAvx2 : &DotK.Q5KScalar,
            GgmlType.Q6_K => simd ? &DotK.Q6KAvx2 : &DotK.Q6KScalar,
            _ => throw new NotSupportedException($"no dot kernel for weight type {weightType}"),
        };
    }

    /// <summary>
    /// True when <paramref name="level"/> runs vector kernels (the AVX2 ones, for the types without kernels
    /// of their own at higher levels); refuses a level this CPU cannot run.
    /// </summary>
    private static bool Vector(SimdLevel level)
    {
        if (!Simd.IsSupported(level))
            throw new PlatformNotSupportedException($"{level} kernels cannot run here: this CPU supports up to {Simd.Supported}");
        return level > SimdLevel.Scalar;
    }
}
