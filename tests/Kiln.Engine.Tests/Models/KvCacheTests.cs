using System.Runtime.Intrinsics;
using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Tests.Tensors;

namespace Kiln.Engine.Tests.Models;

public unsafe class KvCacheTests
{
    [Theory]
    [InlineData(KvCacheType.F32)]
    [InlineData(KvCacheType.F16)]
    public void EachHeadReadsBackItsOwnPositions(KvCacheType type)
    {
        const int heads = 3, d = 8, ctx = 5;
        using var cache = new KvCache(slots: 2, layers: 2, ctx, heads * d, d, type);
        float Value(int slot, int layer, int pos, int i, bool v) => slot * 1000 + layer * 100 + pos * 10 + i * 0.25f + (v ? 0.125f : 0);
        for (var slot = 0; slot < 2; slot++)
            for (var layer = 0; layer < 2; layer++)
                for (var pos = 0; pos < ctx; pos++)
                {
                    var k = Enumerable.Range(0, heads * d).Select(i => Value(slot, layer, pos, i, false)).ToArray();
                    var v = Enumerable.Range(0, heads * d).Select(i => Value(slot, layer, pos, i, true)).ToArray();
                    cache.Store(slot, layer, pos, k, v);
                }
        for (var slot = 0; slot < 2; slot++)
            for (var layer = 0; layer < 2; layer++)
                for (var h = 0; h < heads; h++)
                    for (var pos = 0; pos < ctx; pos++)
                        for (var i = 0; i < d; i++)
                        {
                            float k = type == KvCacheType.F32 ? cache.KeysF32(slot, layer, h)[pos * d + i] : (float)cache.KeysF16(slot, layer, h)[pos * d + i];
                            float v = type == KvCacheType.F32 ? cache.ValuesF32(slot, layer, h)[pos * d + i] : (float)cache.ValuesF16(slot, layer, h)[pos * d + i];
                            Assert.Equal((float)(Half)Value(slot, layer, pos, h * d + i, false), (float)(Half)k);
                            Assert.Equal((float)(Half)Value(slot, layer, pos, h * d + i, true), (float)(Half)v);
                        }
    }

    [Fact]
    public void Slots_of_two_mebibytes_or_more_are_huge_page_blocks_that_keep_apart()
    {
        // 4 layers x K|V x 1024 positions x 256 wide x 4 bytes: 8 MiB a slot.
        const int layers = 4, ctx = 1024, kvDim = 256, d = 64;
        using var cache = new KvCache(slots: 2, layers, ctx, kvDim, d, KvCacheType.F32);
        Assert.Equal(8L << 20, cache.BytesPerSlot);
        for (var slot = 0; slot < 2; slot++)
        {
            Assert.Equal(0L, (long)cache.KeysF32(slot, 0, 0) % (2 << 20));
            if (OperatingSystem.IsLinux()) Assert.Contains(" hg", MappingFlags((nint)cache.KeysF32(slot, 0, 0)));
        }
        var last = Enumerable.Range(0, kvDim).Select(i => i + 0.5f).ToArray();
        cache.Store(0, layers - 1, ctx - 1, last, last);
        cache.Store(1, 0, 0, new float[kvDim], new float[kvDim]);
        var saved = new byte[cache.BytesPerPosition];
        cache.Save(0, ctx - 1, 1, saved);
        cache.Load(1, ctx - 1, 1, saved);
        for (var h = 0; h < kvDim / d; h++)
            for (var i = 0; i < d; i++)
            {
                Assert.Equal(last[h * d + i], cache.ValuesF32(1, layers - 1, h)[(ctx - 1) * d + i]);
                Assert.Equal(0f, cache.KeysF32(1, 0, h)[i]);
            }
    }

    /// <summary>The VmFlags of the mapping holding <paramref name="address"/> (" hg": advised as huge pages).</summary>
    private static string MappingFlags(nint address)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (IsRange(line, out var start, out var end))
                inside = address >= start && address < end;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..] + " ";
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }

    private static bool IsRange(string line, out nint start, out nint end)
    {
        start = end = 0;
        var range = line.Split(' ')[0].Split('-');
        return range.Length == 2
            && nint.TryParse(range[0], System.Globalization.NumberStyles.HexNumber, null, out start)
            && nint.TryParse(range[1], System.Globalization.NumberStyles.HexNumber, null, out end);
    }

    [Fact]
    public void HeadWidthMustDivideTheKvWidth()
        => Assert.Throws<ArgumentException>(() => new KvCache(1, 1, 4, 12, 8, KvCacheType.F32));

    [AcceleratedTheory]
    [InlineData(1)]
    [InlineData(2)]
    public void HalfStoreRoundsToNearestEvenLikeTheBcl(int seed)
    {
        var rng = new Random(seed);
        var values = new List<float> { 0f, -0f, 1f, -1f, 65504f, -65504f, 65519.99f, 6.1035156e-5f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 1e-9f };
        for (int h = 0; h < 0x7C00; h++)
        {
            // Every finite half, and the float halfway to its successor (a tie), both signs.
            float x = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(h + 1));
            values.Add(x);
            values.Add(-x);
            if (h + 1 < 0x7C00) values.Add((x + next) / 2);
        }
        for (int i = 0; i < 100_000; i++)
            values.Add(MathF.ScaleB((float)(rng.NextDouble() * 2 - 1), rng.Next(-30, 16)));
        while (values.Count % 8 != 0) values.Add(0.5f);
        for (int i = 0; i < values.Count; i += 8)
        {
            var halves = KvHalf.FromSingle8(Vector256.Create(values.GetRange(i, 8).ToArray()));
            for (int j = 0; j < 8; j++)
                Assert.True(BitConverter.HalfToUInt16Bits((Half)values[i + j]) == halves[j], $"{values[i + j]:R}");
        }
    }

    [AcceleratedTheory]
    [InlineData(65520f, 0x7BFF)]
    [InlineData(1e30f, 0x7BFF)]
    [InlineData(float.PositiveInfinity, 0x7BFF)]
    [InlineData(-1e6f, 0xFBFF)]
    [InlineData(float.NegativeInfinity, 0xFBFF)]
    public void HalfStoreSaturatesInsteadOfOverflowing(float value, int expected)
    {
        var halves = stackalloc ushort[9];
        KvHalf.Store(Enumerable.Repeat(value, 9).ToArray(), halves);
        for (int i = 0; i < 9; i++)
            Assert.Equal(expected, halves[i]); // eight through the vector path, the ninth through the scalar one
    }

    [AcceleratedTheory]
    [InlineData(0)]
    public void HalfLoadWidensEveryFiniteHalfExactly(int offset)
    {
        var halves = new ushort[2 * 0x7C00 + 8];
        for (int h = 0; h < 0x7C00; h++)
        {
            halves[2 * h] = (ushort)h;
            halves[2 * h + 1] = (ushort)(h | 0x8000);
        }
        fixed (ushort* p = halves)
            for (int i = offset; i + 8 <= halves.Length; i += 8)
            {
                var wide = KvHalf.Load8((byte*)p, i);
                for (int j = 0; j < 8; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits((float)BitConverter.UInt16BitsToHalf(halves[i + j])), BitConverter.SingleToInt32Bits(wide[j]));
            }
    }

    [Fact]
    public void SoftmaxMatchesADoubleReference()
    {
        var rng = new Random(5);
        var s = new float[100];
        for (int len = 1; len <= s.Length; len++)
        {
            for (int t = 0; t < len; t++) s[t] = (float)(rng.NextDouble() * 40 - 20);
            var expected = new double[len];
            float max = s.Take(len).Max();
            double sum = 0;
            for (int t = 0; t < len; t++) sum += expected[t] = Math.Exp(s[t] - max); // the float difference, as the kernel forms it
            fixed (float* p = s)
                AttentionMath.Softmax(p, len);
            for (int t = 0; t < len; t++)
                Assert.True(Math.Abs(s[t] - expected[t] / sum) <= 1e-6 * (expected[t] / sum) + 1e-30, $"len {len} t {t}: {s[t]} vs {expected[t] / sum}");
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void HalfCacheStaysCloseToTheReference(string arch)
    {
        var tiny = TinyModel.Random(arch, tied: false, seed: 7);
        using var file = GgufFile.Parse(tiny.ToGguf());
        using var model = new LlamaModel(file, new ModelOptions { MaxSlots = 1, Threads = 2, KvCacheType = KvCacheType.F16 });
        int[] tokens = [1, 5, 9, 33, 2, 17, 17, 39, 0, 12, 3, 8, 21];
        var expected = ReferenceForward.Logits(tiny, tokens);
        var batch = new Batch();
        for (var i = 0; i < tokens.Length; i++)
        {
            batch.Clear();
            batch.Add(tokens[i], 0, i, true);
            var logits = model.Forward(batch);
            for (var j = 0; j < tiny.Vocab; j++)
                Assert.True(Math.Abs(logits[j] - expected[i][j]) < 2e-2, $"{arch} position {i} token {j}: {logits[j]} vs {expected[i][j]}");
        }
    }
}
