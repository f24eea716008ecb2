using Kiln.Engine.Lora;
using Kiln.Engine.Models;
using Kiln.Engine.Serving;

namespace Kiln.Engine.Tests.Serving;

/// <summary>The prefix cache's bookkeeping: longest-prefix lookup, budget, LRU eviction, adapter keys.</summary>
public class PrefixCacheTests
{
    private const int Block = 4;
    private const int BytesPerPosition = 8;
    private const int BlockBytes = Block * BytesPerPosition;

    /// <summary>A model whose "KV" of a position is its token written out, so restored bytes can be checked.</summary>
    private sealed class KvModel(int slots = 2, int context = 256) : ILanguageModel
    {
        private readonly byte[][] _kv = Enumerable.Range(0, slots).Select(_ => new byte[context * BytesPerPosition]).ToArray();
        public ModelInfo Info { get; } = new("kv", "kv", 1000, context, slots);
        public long KvBytesPerPosition => BytesPerPosition;
        public ReadOnlySpan<float> Forward(Batch batch) => throw new NotSupportedException();
        public void Truncate(int slot, int fromPosition) => Array.Clear(_kv[slot], fromPosition * BytesPerPosition, _kv[slot].Length - fromPosition * BytesPerPosition);
        public void SaveKv(int slot, int position, int count, Span<byte> destination) => _kv[slot].AsSpan(position * BytesPerPosition, count * BytesPerPosition).CopyTo(destination);
        public void LoadKv(int slot, int position, int count, ReadOnlySpan<byte> source) => source.CopyTo(_kv[slot].AsSpan(position * BytesPerPosition, count * BytesPerPosition));
        public void Fill(int slot, int[] tokens)
        {
            for (var p = 0; p < tokens.Length; p++) BitConverter.TryWriteBytes(_kv[slot].AsSpan(p * BytesPerPosition), (long)tokens[p] * 1000 + p);
        }
        public long At(int slot, int position) => BitConverter.ToInt64(_kv[slot], position * BytesPerPosition);
        public void Dispose() { }
    }

    private static int[] Tokens(int seed, int count) => Enumerable.Range(0, count).Select(i => seed * 100 + i).ToArray();

    private static PrefixCache Cache(int blocks) => new(blocks * BlockBytes, Block, BytesPerPosition, "test");

    private static void Save(PrefixCache cache, KvModel model, int[] tokens, LoraSet? adapters = null)
    {
        model.Fill(0, tokens);
        cache.Save(model, 0, tokens, adapters);
    }

    [Fact]
    public void RestoresTheLongestCachedPrefixInWholeBlocksWithItsBytes()
    {
        using var model = new KvModel();
        using var cache = Cache(16);
        var cached = Tokens(1, 10); // two whole blocks and two spare tokens
        Save(cache, model, cached);
        Assert.Equal(2, cache.Blocks);

        int[] query = [.. cached[..6], 999, 998, 997, 996, 995];
        model.Truncate(1, 0);
        Assert.Equal(4, cache.Restore(model, 1, query, query.Length - 1, null));
        for (var p = 0; p < 4; p++) Assert.Equal((long)query[p] * 1000 + p, model.At(1, p));
        Assert.Equal(0, model.At(1, 4));
        Assert.Equal(8, cache.Restore(model, 1, cached, cached.Length - 1, null));
        Assert.Equal(4, cache.Restore(model, 1, cached, 7, null)); // the limit keeps the last tokens to compute
        Assert.Equal(0, cache.Restore(model, 1, Tokens(2, 10), 9, null));
        Assert.Equal(4, cache.Metrics.Queries);
        Assert.Equal(3, cache.Metrics.Hits);
        Assert.Equal(16, cache.Metrics.HitTokens);
        Assert.Equal(11 + 10 + 10 + 10, cache.Metrics.QueryTokens);
    }

    [Fact]
    public void ABlockMatchesOnlyAfterItsOwnParent()
    {
        using var model = new KvModel();
        using var cache = Cache(16);
        var a = Tokens(1, 8);
        Save(cache, model, a);
        // Same second block after another first block: a different prefix, no hit at all.
        int[] b = [.. Tokens(2, 4), .. a[4..]];
        Assert.Equal(0, cache.Restore(model, 1, [.. b, 1], 8, null));
    }

    [Fact]
    public void NeverHoldsMoreThanItsBudgetAndEvictsLeastRecentlyUsedFirst()
    {
        using var model = new KvModel();
        using var cache = new PrefixCache(3 * BlockBytes + BlockBytes / 2, Block, BytesPerPosition, "test");
        Assert.Equal(3 * BlockBytes, cache.Metrics.CapacityBytes);
        Save(cache, model, Tokens(1, 4));
        Save(cache, model, Tokens(2, 4));
        Save(cache, model, Tokens(3, 4));
        Assert.Equal(4, cache.Restore(model, 1, Tokens(1, 5), 4, null)); // 1 is now more recent than 2
        Save(cache, model, Tokens(4, 4));
        Assert.Equal(3, cache.Blocks);
        Assert.Equal(0, cache.Restore(model, 1, Tokens(2, 5), 4, null));
        Assert.Equal(4, cache.Restore(model, 1, Tokens(1, 5), 4, null));
        Assert.Equal(4, cache.Restore(model, 1, Tokens(4, 5), 4, null));
        Assert.Equal(1, cache.Metrics.Evictions);

        for (var seed = 10; seed < 60; seed++)
        {
            Save(cache, model, Tokens(seed, 4 * (1 + seed % 5)));
            Assert.True(cache.Blocks <= 3);
            Assert.True(cache.Metrics.UsedBytes <= cache.Metrics.CapacityBytes, $"{cache.Metrics.UsedBytes} bytes used of {cache.Metrics.CapacityBytes}");
        }
    }

    [Fact]
    public void EvictsTheEndOfAPrefixBeforeItsStart()
    {
        using var model = new KvModel();
        using var cache = Cache(2);
        var chain = Tokens(1, 8);
        Save(cache, model, chain);
        Assert.Equal(4, cache.Restore(model, 1, Tokens(1, 5), 4, null)); // the first block is the most recent now
        Save(cache, model, Tokens(2, 4));
        // The second block went, though the first was older: a block without its parent is unreachable.
        Assert.Equal(4, cache.Restore(model, 1, [.. chain, 0], 8, null));
        Assert.Equal(4, cache.Restore(model, 1, Tokens(2, 5), 4, null));
    }

    [Fact]
    public void AdapterSetsAndZeroBudgetsKeepApart()
    {
        using var model = new KvModel();
        using var cache = Cache(8);
        var adapter = LoraSet.Single(0);
        var tokens = Tokens(1, 9);
        Save(cache, model, tokens, adapter);
        Assert.Equal(0, cache.Restore(model, 1, tokens, 8, null));
        // Same id and scale, another registration: ids are reused, so it must not match either.
        Assert.Equal(0, cache.Restore(model, 1, tokens, 8, LoraSet.Single(0)));
        Assert.Equal(8, cache.Restore(model, 1, tokens, 8, adapter));

        using var off = new PrefixCache(BlockBytes - 1, Block, BytesPerPosition, "test");
        Save(off, model, tokens);
        Assert.Equal(0, off.Blocks);
        Assert.Equal(0, off.Restore(model, 1, tokens, 8, null));
    }
}
