using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Engine.Tensors;

/// <summary>
/// How one 32-element weight block turns into 32 integer quants in element order. Signed formats
/// (Q4_0, Q5_0, IQ4_NL) dot against Q8_0 activations; formats with a min (Q4_1, Q5_1) decode to
/// unsigned quants and dot against Q8_1, whose per-block sum carries the min term.
/// Every block starts with its half scale d; formats with a min keep the half m right after it.
/// </summary>
internal unsafe interface IBlock32
{
    static abstract int BlockBytes { get; }

    static abstract bool HasMin { get; }

    /// <summary>
    /// For signed formats that <see cref="Decode"/> leaves unsigned (Q4_0, Q5_0): the offset the decoded
    /// bytes carry, a power of two (1 &lt;&lt; <see cref="BiasShift"/>); 0 when decoding gives the value itself.
    /// </summary>
    static abstract int Bias { get; }

    static abstract int BiasShift { get; }

    /// <summary>The 32 quants as bytes: value + Bias (0..31) or int8 values for signed formats, 0..31 for formats with a min. AVX2 only.</summary>
    static abstract Vector256<byte> Decode(byte* block);

    /// <summary>The 32 quants as their true values (signed for signed formats).</summary>
    static abstract void DecodeScalar(byte* block, int* q);
}

/// <summary>Shared bit unpacking for the 32-element decoders.</summary>
internal static unsafe class Block32Bits
{
    /// <summary>16 bytes of packed nibbles to 32 bytes: low nibbles (elements 0..15) then high ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* qs)
    {
        var raw = Vector128.Load(qs);
        var mask = Vector128.Create((byte)0x0F);
        return Vector256.Create(raw & mask, Vector128.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & mask);
    }

    /// <summary>Byte j is 0xFF where bit j of <paramref name="bits"/> is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> BitsToBytes(uint bits)
    {
        var spread = Avx2.Shuffle(Vector256.Create(bits).AsByte(), Vector256.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        // Every bit but bit (j % 8) set: OR-ing leaves 0xFF exactly when that bit is set.
        var others = Vector256.Create(0x7FBFDFEFF7FBFDFEUL).AsByte();
        return Vector256.Equals(spread | others, Vector256<byte>.AllBitsSet);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NibblesScalar(byte* qs, int* q, int offset)
    {
        for (int j = 0; j < 16; j++)
        {
            q[j] = (qs[j] & 0xF) + offset;
            q[j + 16] = (qs[j] >> 4) + offset;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FifthBitScalar(uint qh, int* q)
    {
        for (int j = 0; j < 32; j++)
            q[j] += (int)((qh >> j) & 1) << 4;
    }
}

internal unsafe struct Q4_0Block : IBlock32
{
    public static int BlockBytes => 18;
    public static bool HasMin => false;
    public static int Bias => 8;
    public static int BiasShift => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(byte* block) => Block32Bits.Nibbles(block + 2);

    public static void DecodeScalar(byte* block, int* q) => Block32Bits.NibblesScalar(block + 2, q, -8);
}

internal unsafe struct Q4_1Block : IBlock32
{
    public static int BlockBytes => 20;
    public static bool HasMin => true;
    public static int Bias => 0;
    public static int BiasShift => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(byte* block) => Block32Bits.Nibbles(block + 4);

    public static void DecodeScalar(byte* block, int* q) => Block32Bits.NibblesScalar(block + 4, q, 0);
}

internal unsafe struct Q5_0Block : IBlock32
{
    public static int BlockBytes => 22;
    public static bool HasMin => false;
    public static int Bias => 16;
    public static int BiasShift => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(byte* block) => Block32Bits.Nibbles(block + 6)
        | (Block32Bits.BitsToBytes(Unsafe.ReadUnaligned<uint>(block + 2)) & Vector256.Create((byte)0x10));

    public static void DecodeScalar(byte* block, int* q)
    {
        Block32Bits.NibblesScalar(block + 6, q, -16);
        Block32Bits.FifthBitScalar(Unsafe.ReadUnaligned<uint>(block + 2), q);
    }
}

internal unsafe struct Q5_1Block : IBlock32
{
    public static int BlockBytes => 24;
    public static bool HasMin => true;
    public static int Bias => 0;
    public static int BiasShift => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(byte* block) => Block32Bits.Nibbles(block + 8)
        | (Block32Bits.BitsToBytes(Unsafe.ReadUnaligned<uint>(block + 4)) & Vector256.Create((byte)0x10));

    public static void DecodeScalar(byte* block, int* q)
    {
        Block32Bits.NibblesScalar(block + 8, q, 0);
        Block32Bits.FifthBitScalar(Unsafe.ReadUnaligned<uint>(block + 4), q);
    }
}

internal unsafe struct Iq4NlBlock : IBlock32
{
    public static int BlockBytes => Iq4Nl.BlockBytes;
    public static bool HasMin => false;
    public static int Bias => 0;
    public static int BiasShift => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(byte* block)
    {
        var table = Vector256.Create(
            (sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113).AsByte();
        return Avx2.Shuffle(table, Block32Bits.Nibbles(block + 2));
    }

    public static void DecodeScalar(byte* block, int* q)
    {
        var values = Iq4Nl.Values;
        byte* qs = block + 2;
        for (int j = 0; j < 16; j++)
        {
            q[j] = values[qs[j] & 0xF];
            q[j + 16] = values[qs[j] >> 4];
        }
    }
}
