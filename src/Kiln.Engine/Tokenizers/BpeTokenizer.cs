namespace Kiln.Engine.Tokenizers;

/// <summary>
/// Byte-level BPE tokenizer (GGUF model <c>gpt2</c>), matching llama.cpp: the text is split into
/// words by the model's pre-tokenizer, each word's UTF-8 bytes are mapped to GPT-2's byte
/// characters, and adjacent symbols are merged lowest merge rank first (leftmost on ties).
/// </summary>
public sealed class BpeTokenizer : TokenizerBase
{
    private readonly PreTokenizer _pre;
    private readonly bool _ignoreMerges;

    // Every string that can be a BPE symbol (pieces and both sides of each merge) gets an id, so a
    // merge is looked up by a pair of ints instead of by concatenating strings.
    private readonly Dictionary<string, int> _symbolIds;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _symbolLookup;
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;

    /// <summary>The pre-tokenizer in use (a fallback is named as such).</summary>
    public string PreTokenizerName { get; }

    internal BpeTokenizer(Vocabulary vocab, string[] merges, PreTokenizer pre, string preName, bool ignoreMerges)
        : base(vocab, id => DecodePiece(vocab, id))
    {
        _pre = pre;
        _ignoreMerges = ignoreMerges;
        PreTokenizerName = preName;

        _symbolIds = new Dictionary<string, int>(vocab.Count + merges.Length / 4, StringComparer.Ordinal);
        for (var i = 0; i < vocab.Count; i++) _symbolIds[vocab.Pieces[i]] = i;
        _symbolLookup = _symbolIds.GetAlternateLookup<ReadOnlySpan<char>>();

        _merges = new Dictionary<long, (int, int)>(merges.Length);
        for (var rank = 0; rank < merges.Length; rank++)
        {
            var m = merges[rank];
            var space = m.Length > 1 ? m.IndexOf(' ', 1) : -1; // the first space after the first character
            var (first, second) = space < 0 ? ("", "") : (m[..space], m[(space + 1)..]);
            var key = Key(SymbolId(first), SymbolId(second));
            _merges.TryAdd(key, (rank, SymbolId(first + second))); // the first listing of a pair wins
        }

        // Only a symbol that is no piece (a byte without one, a merge result outside the vocabulary)
        // can be dropped while encoding; without either, every input byte lands in some token.
        _coversEveryByte = ByteLevel.ByteToChar.All(c => vocab.Find(c.ToString()) >= 0)
            && _merges.Values.All(m => m.Merged < vocab.Count);
    }

    private readonly bool _coversEveryByte;

    private int SymbolId(string s)
    {
        if (!_symbolIds.TryGetValue(s, out var id))
        {
            id = _symbolIds.Count + Vocab.Count; // beyond every token id, never confused with one
            _symbolIds[s] = id;
        }
        return id;
    }

    private static long Key(int left, int right) => (long)left << 32 | (uint)right;

    private protected override bool CoversEveryCharacter => _coversEveryByte;

    private protected override void Encode(string text, List<Fragment> fragments, bool addSpecial, List<int> output, int limit)
    {
        if (addSpecial && AddBos) AddSpecialToken(Vocab.Bos, "BOS", output);
        var session = new Session(this);
        foreach (var f in fragments)
        {
            if (output.Count > limit) return;
            if (f.IsText) session.Tokenize(text.AsSpan(f.Start, f.Length), output, limit);
            else output.Add(f.Token);
        }
        if (addSpecial && AddEos) AddSpecialToken(Vocab.Eos, "EOS", output);
    }

    private static byte[] DecodePiece(Vocabulary vocab, int id) => vocab.Kinds[id] switch
    {
        TokenKind.UserDefined => System.Text.Encoding.UTF8.GetBytes(vocab.Pieces[id]),
        TokenKind.Normal => ByteLevel.Decode(vocab.Pieces[id]),
        _ => [],
    };

    /// <summary>Scratch state for one Encode call.</summary>
    private sealed class Session(BpeTokenizer owner)
    {
        private struct Symbol
        {
            public int Start, Length, Prev, Next, Id;
        }

        private readonly record struct Bigram(int Left, int Right, int LeftId, int RightId, int Merged);

        // Lowest rank first; equal ranks go to the leftmost pair, as in llama.cpp.
        private sealed class BigramOrder : IComparer<(int Rank, int Left)>
        {
            public static readonly BigramOrder Instance = new();

            public int Compare((int Rank, int Left) x, (int Rank, int Left) y) =>
                x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.Left.CompareTo(y.Left);
        }

        private readonly List<int> _words = [];
        private readonly PriorityQueue<Bigram, (int, int)> _queue = new(BigramOrder.Instance);
        private Symbol[] _symbols = new Symbol[64];
        private char[] _mapped = new char[256];

        public void Tokenize(ReadOnlySpan<char> text, List<int> output, int limit)
        {
            var cps = Unicode.CodePoints(text);
            owner._pre.Split(cps, _words);
            var start = 0;
            Span<byte> utf8 = stackalloc byte[4];
            foreach (var len in _words)
            {
                if (output.Count > limit) return;
                // Map the word's UTF-8 bytes to byte-level characters: one symbol per byte.
                var n = 0;
                for (var i = start; i < start + len; i++)
                {
                    var count = Unicode.EncodeUtf8(cps[i], utf8);
                    if (n + count > _mapped.Length) Array.Resize(ref _mapped, _mapped.Length * 2);
                    for (var k = 0; k < count; k++) _mapped[n++] = ByteLevel.ByteToChar[utf8[k]];
                }
                start += len;
                TokenizeWord(_mapped.AsSpan(0, n), output);
            }
        }

        private void TokenizeWord(ReadOnlySpan<char> word, List<int> output)
        {
            var vocab = owner.Vocab;
            if (owner._ignoreMerges && vocab.Find(word) is var whole and >= 0)
            {
                output.Add(whole);
                return;
            }

            if (_symbols.Length < word.Length) _symbols = new Symbol[Math.Max(word.Length, _symbols.Length * 2)];
            for (var i = 0; i < word.Length; i++)
            {
                _symbols[i] = new Symbol
                {
                    Start = i,
                    Length = 1,
                    Prev = i - 1,
                    Next = i + 1 == word.Length ? -1 : i + 1,
                    Id = owner._symbolLookup.TryGetValue(word.Slice(i, 1), out var id) ? id : -1,
                };
            }

            _queue.Clear();
            for (var i = 1; i < word.Length; i++) TryAddBigram(i - 1, i);

            while (_queue.TryDequeue(out var b, out _))
            {
                ref var left = ref _symbols[b.Left];
                ref var right = ref _symbols[b.Right];
                // Skip pairs made stale by an earlier merge (ids identify the symbols' text).
                if (left.Length == 0 || right.Length == 0 || left.Id != b.LeftId || right.Id != b.RightId) continue;

                left.Length += right.Length;
                left.Id = b.Merged;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0) _symbols[right.Next].Prev = b.Left;

                TryAddBigram(left.Prev, b.Left);
                TryAddBigram(b.Left, left.Next);
            }

            for (var i = 0; i != -1; i = _symbols[i].Next)
            {
                var piece = word.Slice(_symbols[i].Start, _symbols[i].Length);
                var id = vocab.Find(piece);
                if (id >= 0)
                {
                    output.Add(id);
                    continue;
                }
                // Not a piece: llama.cpp falls back to single-character pieces and skips the rest.
                foreach (var c in piece)
                {
                    if (c < 0x80 && vocab.Find(new ReadOnlySpan<char>(in c)) is var single and >= 0) output.Add(single);
                }
            }
        }

        private void TryAddBigram(int left, int right)
        {
            if (left < 0 || right < 0) return;
            var leftId = _symbols[left].Id;
            var rightId = _symbols[right].Id;
            if (leftId < 0 || rightId < 0) return;
            if (!owner._merges.TryGetValue(Key(leftId, rightId), out var merge)) return;
            _queue.Enqueue(new Bigram(left, right, leftId, rightId, merge.Merged), (merge.Rank, left));
        }
    }
}
