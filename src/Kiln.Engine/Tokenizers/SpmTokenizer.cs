namespace Kiln.Engine.Tokenizers;

/// <summary>
/// SentencePiece-style tokenizer (GGUF model <c>llama</c>), matching llama.cpp: spaces become
/// "▁" (with one prepended when <c>add_space_prefix</c> is on), then adjacent pieces are merged
/// greedily by score, and whatever remains unmerged falls back to <c>&lt;0xXX&gt;</c> byte tokens.
/// </summary>
public sealed class SpmTokenizer : TokenizerBase
{
    private const char Space = '\u2581';
    private readonly int[] _byteTokens; // <0xXX> or the single-byte piece, -1 when neither exists

    internal SpmTokenizer(Vocabulary vocab) : base(vocab, id => DecodePiece(vocab, id))
    {
        _byteTokens = new int[256];
        for (var b = 0; b < 256; b++)
        {
            var id = vocab.Find($"<0x{b:X2}>");
            if (id < 0 && b < 0x80) id = vocab.Find(((char)b).ToString());
            _byteTokens[b] = id;
        }
    }

    public bool AddSpacePrefix => Vocab.AddSpacePrefix;

    // Merged symbols are pieces, lone characters become byte tokens or unknown: nothing is dropped.
    private protected override bool CoversEveryCharacter => true;

    private protected override void Encode(string text, List<Fragment> fragments, bool addSpecial, List<int> output, int limit)
    {
        if (addSpecial && AddBos) AddSpecialToken(Vocab.Bos, "BOS", output);
        var previousWasSpecial = true; // the start of the text counts as following a special token
        var session = new Session(this);
        foreach (var f in fragments)
        {
            if (output.Count > limit) return;
            if (!f.IsText)
            {
                output.Add(f.Token);
                previousWasSpecial = true;
                continue;
            }
            var prefix = Vocab.AddSpacePrefix && previousWasSpecial;
            var escaped = string.Create(f.Length + (prefix ? 1 : 0), (text, f, prefix), static (dest, s) =>
            {
                var offset = 0;
                if (s.prefix) dest[offset++] = Space;
                s.text.AsSpan(s.f.Start, s.f.Length).CopyTo(dest[offset..]);
                dest.Replace(' ', Space);
            });
            session.Tokenize(escaped, output);
            previousWasSpecial = false;
        }
        if (addSpecial && AddEos) AddSpecialToken(Vocab.Eos, "EOS", output);
    }

    private static byte[] DecodePiece(Vocabulary vocab, int id)
    {
        var piece = vocab.Pieces[id];
        switch (vocab.Kinds[id])
        {
            case TokenKind.UserDefined:
                return System.Text.Encoding.UTF8.GetBytes(piece);
            case TokenKind.Normal:
                return System.Text.Encoding.UTF8.GetBytes(piece.Replace(Space, ' '));
            case TokenKind.Byte:
                return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal)
                    && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b)
                    ? [b]
                    : [];
            default:
                return []; // unused and undefined pieces print as nothing
        }
    }

    /// <summary>Scratch state for one Encode call.</summary>
    private sealed class Session(SpmTokenizer owner)
    {
        private struct Symbol
        {
            public int Start, Length, Prev, Next;
        }

        private readonly record struct Bigram(int Left, int Right, int Length);

        // Highest score first; equal scores go to the leftmost pair, as in llama.cpp.
        private sealed class BigramOrder : IComparer<(float Score, int Left)>
        {
            public static readonly BigramOrder Instance = new();

            public int Compare((float Score, int Left) x, (float Score, int Left) y) =>
                x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Left.CompareTo(y.Left);
        }

        private Symbol[] _symbols = new Symbol[64];
        private readonly PriorityQueue<Bigram, (float, int)> _queue = new(BigramOrder.Instance);
        private string _text = "";

        public void Tokenize(string text, List<int> output)
        {
            _text = text;
            var n = 0;
            for (var i = 0; i < text.Length;)
            {
                var len = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                if (n == _symbols.Length) Array.Resize(ref _symbols, n * 2);
                _symbols[n] = new Symbol { Start = i, Length = len, Prev = n - 1, Next = i + len == text.Length ? -1 : n + 1 };
                n++;
                i += len;
            }
            if (n == 0) return;

            _queue.Clear();
            for (var i = 1; i < n; i++) TryAddBigram(i - 1, i);

            while (_queue.TryDequeue(out var bigram, out _))
            {
                ref var left = ref _symbols[bigram.Left];
                ref var right = ref _symbols[bigram.Right];
                // Skip pairs made stale by an earlier merge.
                if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length) continue;

                left.Length += right.Length;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0) _symbols[right.Next].Prev = bigram.Left;

                TryAddBigram(left.Prev, bigram.Left);
                TryAddBigram(bigram.Left, left.Next);
            }

            for (var i = 0; i != -1; i = _symbols[i].Next) Emit(_symbols[i], output);
        }

        private void TryAddBigram(int left, int right)
        {
            if (left < 0 || right < 0) return;
            var start = _symbols[left].Start;
            var length = _symbols[left].Length + _symbols[right].Length;
            var id = owner.Vocab.Find(_text.AsSpan(start, length));
            if (id < 0) return;
            _queue.Enqueue(new Bigram(left, right, length), (owner.Vocab.Scores[id], left));
        }

        // A merged symbol is always a piece; a lone character that is not becomes byte tokens.
        private void Emit(Symbol s, List<int> output)
        {
            var piece = _text.AsSpan(s.Start, s.Length);
            var id = owner.Vocab.Find(piece);
            if (id >= 0)
            {
                output.Add(id);
                return;
            }
            Span<byte> utf8 = stackalloc byte[4];
            var cp = s.Length == 2 ? char.ConvertToUtf32(piece[0], piece[1]) : char.IsSurrogate(piece[0]) ? 0xFFFD : piece[0];
            var count = Unicode.EncodeUtf8(cp, utf8);
            for (var i = 0; i < count; i++)
            {
                if (owner._byteTokens[utf8[i]] < 0)
                {
                    output.Add(owner.UnknownFor(piece));
                    return;
                }
            }
            for (var i = 0; i < count; i++) output.Add(owner._byteTokens[utf8[i]]);
        }
    }
}
