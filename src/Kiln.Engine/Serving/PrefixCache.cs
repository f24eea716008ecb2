using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Kiln.Engine.Lora;
using Kiln.Engine.Models;

namespace Kiln.Engine.Serving;

/// <summary>
/// Saved KV of token prefixes, block by block, under a byte budget, so a sequence whose prompt
/// starts like an earlier one loads those positions instead of computing them again.
/// A block holds <see cref="BlockTokens"/> consecutive positions; its key hashes its parent's key with
/// its tokens, so a key names the whole prefix up to the block's end. The first key also hashes the
/// model's KV format and the adapter set, since KV computed under adapter A is wrong under B.
/// Every hit is verified against the stored tokens and parent, so a hash collision costs a miss,
/// never wrong KV. A block is in use while a child block extends it; unused blocks are evicted least
/// recently used first. Scheduler thread only.
/// </summary>
internal sealed class PrefixCache : IDisposable
{
    private readonly KvBlockPool _pool;
    private readonly byte[] _formatSalt;
    private readonly Dictionary<UInt128, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = new(); // most recently used first
    private readonly byte[] _hashInput;

    private sealed class Entry(UInt128 key, Entry? parent, int[] tokens, int block)
    {
        public UInt128 Key { get; } = key;
        public Entry? Parent { get; } = parent;
        public int[] Tokens { get; } = tokens;
        public int Block { get; } = block;
        public int Children { get; set; }
        public LinkedListNode<Entry>? Node { get; set; }
    }

    public PrefixCache(long budgetBytes, int blockTokens, long bytesPerPosition, string kvFormat)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerPosition, 1);
        BlockTokens = blockTokens;
        _pool = new KvBlockPool(budgetBytes, bytesPerPosition * blockTokens);
        _formatSalt = Encoding.UTF8.GetBytes(kvFormat);
        _hashInput = new byte[16 + 4 * blockTokens];
        Metrics = new PrefixCacheMetrics((long)_pool.Capacity * _pool.BlockBytes, blockTokens);
    }

    public int BlockTokens { get; }
    public PrefixCacheMetrics Metrics { get; }

    /// <summary>Blocks held now (for tests).</summary>
    internal int Blocks => _entries.Count;

    /// <summary>
    /// Loads the longest cached prefix of <paramref name="tokens"/> (whole blocks, at most
    /// <paramref name="limit"/> tokens) into positions 0.. of a slot; returns how many tokens it loaded.
    /// </summary>
    public int Restore(ILanguageModel model, int slot, ReadOnlySpan<int> tokens, int limit, LoraSet? adapters)
    {
        var blocks = Math.Min(tokens.Length, limit) / BlockTokens;
        var key = Root(adapters);
        Entry? parent = null;
        var found = 0;
        for (; found < blocks; found++)
        {
            var run = tokens.Slice(found * BlockTokens, BlockTokens);
            key = Chain(key, run);
            if (!TryMatch(key, parent, run, out var entry)) break;
            Touch(entry);
            model.LoadKv(slot, found * BlockTokens, BlockTokens, _pool[entry.Block]);
            parent = entry;
        }
        var hit = found * BlockTokens;
        Metrics.AddQuery(tokens.Length, hit);
        return hit;
    }

    /// <summary>Saves the whole blocks of <paramref name="tokens"/>, the tokens whose KV a slot holds at positions 0.., that are not cached yet.</summary>
    public void Save(ILanguageModel model, int slot, ReadOnlySpan<int> tokens, LoraSet? adapters)
    {
        var blocks = tokens.Length / BlockTokens;
        var key = Root(adapters);
        Entry? parent = null;
        for (var b = 0; b < blocks; b++)
        {
            var run = tokens.Slice(b * BlockTokens, BlockTokens);
            key = Chain(key, run);
            if (TryMatch(key, parent, run, out var entry))
            {
                Touch(entry);
                parent = entry;
                continue;
            }
            // A colliding key holds other tokens: keep what is there.
            if (_entries.ContainsKey(key)) return;
            if (!TryRent(parent, out var block)) return;
            model.SaveKv(slot, b * BlockTokens, BlockTokens, _pool[block]);
            entry = new Entry(key, parent, run.ToArray(), block);
            _entries.Add(key, entry);
            if (parent is not null) parent.Children++;
            Touch(entry);
            parent = entry;
        }
        Metrics.SetUsedBytes((long)_entries.Count * _pool.BlockBytes);
    }

    private bool TryMatch(UInt128 key, Entry? parent, ReadOnlySpan<int> run, out Entry entry)
        => _entries.TryGetValue(key, out entry!) && entry.Parent == parent && run.SequenceEqual(entry.Tokens);

    private void Touch(Entry entry)
    {
        if (entry.Node is not null) _lru.Remove(entry.Node);
        entry.Node = _lru.AddFirst(entry);
    }

    /// <summary>A free block, evicting the least recently used unextended block (never <paramref name="keep"/>, the chain being extended) if none is free.</summary>
    private bool TryRent(Entry? keep, out int block)
    {
        if (_pool.TryRent(out block)) return true;
        for (var node = _lru.Last; node is not null; node = node.Previous)
        {
            var victim = node.Value;
            if (victim.Children > 0 || victim == keep) continue;
            _lru.Remove(node);
            _entries.Remove(victim.Key);
            if (victim.Parent is not null) victim.Parent.Children--;
            _pool.Return(victim.Block);
            Metrics.AddEviction();
            return _pool.TryRent(out block);
        }
        return false;
    }

    private UInt128 Root(LoraSet? adapters)
    {
        var hash = new XxHash128();
        hash.Append(_formatSalt);
        Span<byte> serial = stackalloc byte[8];
        BitConverter.TryWriteBytes(serial, adapters?.Serial ?? 0);
        hash.Append(serial);
        return hash.GetCurrentHashAsUInt128();
    }

    private UInt128 Chain(UInt128 parent, ReadOnlySpan<int> run)
    {
        var input = _hashInput.AsSpan();
        BitConverter.TryWriteBytes(input, parent);
        MemoryMarshal.AsBytes(run).CopyTo(input[16..]);
        return XxHash128.HashToUInt128(input);
    }

    public void Dispose() => _pool.Dispose();
}
