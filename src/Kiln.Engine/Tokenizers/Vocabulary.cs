using System.Text;
using Kiln.Engine.Gguf;

namespace Kiln.Engine.Tokenizers;

/// <summary>Which tokenization algorithm a vocabulary is used with.</summary>
internal enum VocabType
{
    SentencePiece,
    BytePairEncoding,
    WordPiece,
}

/// <summary>
/// The token table shared by all tokenizers: pieces, scores, kinds, special ids and the
/// special-token list, read from GGUF metadata with llama.cpp's defaults and fix-ups.
/// </summary>
internal sealed class Vocabulary
{
    public string[] Pieces { get; }
    public float[] Scores { get; }
    public TokenKind[] Kinds { get; }
    public int Count => Pieces.Length;

    public int? Bos { get; private set; }
    public int? Eos { get; private set; }
    public int? Unk { get; private set; }
    public int? Sep { get; private set; }
    public int? Cls { get; private set; }
    public int? Eot { get; private set; }
    public int? Eom { get; private set; }

    public bool AddBos { get; private set; }
    public bool AddEos { get; private set; }
    public bool AddSpacePrefix { get; private set; }

    public IReadOnlySet<int> EndOfGeneration { get; private set; } = new HashSet<int>();

    /// <summary>Control, user-defined and unknown tokens, longest piece (in UTF-8 bytes) first.</summary>
    public int[] SpecialTokens { get; private set; } = [];

    /// <summary>Special tokens that swallow whitespace to their left / right when split out.</summary>
    public HashSet<int> LStrip { get; } = [];
    public HashSet<int> RStrip { get; } = [];

    /// <summary>Longest piece in UTF-16 code units.</summary>
    public int MaxPieceLength { get; }

    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    private Vocabulary(string[] pieces, float[] scores, TokenKind[] kinds)
    {
        Pieces = pieces;
        Scores = scores;
        Kinds = kinds;
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        var max = 0;
        for (var i = 0; i < pieces.Length; i++)
        {
            _ids[pieces[i]] = i; // a duplicated piece maps to its last id, as in llama.cpp
            max = Math.Max(max, pieces[i].Length);
        }
        MaxPieceLength = max;
        _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The id of a piece, or -1.</summary>
    public int Find(ReadOnlySpan<char> piece) => _spanIds.TryGetValue(piece, out var id) ? id : -1;

    public int Find(string piece) => _ids.TryGetValue(piece, out var id) ? id : -1;

    public static Vocabulary Load(GgufFile file, VocabType type, bool addBosByDefault)
    {
        var pieces = file.GetArray<string>("tokenizer.ggml.tokens")
            ?? throw new InvalidDataException("GGUF has no tokenizer.ggml.tokens");
        if (pieces.Length == 0) throw new InvalidDataException("GGUF has an empty tokenizer.ggml.tokens");
        var scores = file.GetArray<float>("tokenizer.ggml.scores") ?? new float[pieces.Length];
        if (scores.Length != pieces.Length)
            throw new InvalidDataException($"tokenizer.ggml.scores has {scores.Length} entries for {pieces.Length} tokens");
        var types = file.GetIntArray("tokenizer.ggml.token_type");
        if (types is not null && types.Length != pieces.Length)
            throw new InvalidDataException($"tokenizer.ggml.token_type has {types.Length} entries for {pieces.Length} tokens");
        var kinds = new TokenKind[pieces.Length];
        for (var i = 0; i < kinds.Length; i++)
        {
            var t = types?[i] ?? (int)TokenKind.Normal;
            kinds[i] = t is >= 0 and <= 6 ? (TokenKind)t : TokenKind.Undefined;
        }

        var v = new Vocabulary(pieces, scores, kinds);
        v.ReadSpecialIds(file, type, addBosByDefault);
        v.FindEndOfGeneration();
        v.BuildSpecialTokenList(file);
        return v;
    }

    private void ReadSpecialIds(GgufFile file, VocabType type, bool addBosByDefault)
    {
        // llama.cpp's per-model defaults, overridden by any in-range id the file gives.
        switch (type)
        {
            case VocabType.SentencePiece:
                Bos = 1; Eos = 2; Unk = 0;
                AddBos = true; AddSpacePrefix = true;
                break;
            case VocabType.BytePairEncoding:
                Bos = 11; Eos = 11;
                AddBos = addBosByDefault;
                break;
            case VocabType.WordPiece:
                Bos = 101; Unk = 100; Sep = 102; Cls = 101;
                AddBos = true;
                break;
        }
        Bos = Id(file, "tokenizer.ggml.bos_token_id", Bos);
        Eos = Id(file, "tokenizer.ggml.eos_token_id", Eos);
        Unk = Id(file, "tokenizer.ggml.unknown_token_id", Unk);
        Sep = Id(file, "tokenizer.ggml.seperator_token_id", Sep);
        Cls = Id(file, "tokenizer.ggml.cls_token_id", Cls);
        Eot = Id(file, "tokenizer.ggml.eot_token_id", null);
        Eom = Id(file, "tokenizer.ggml.eom_token_id", null);
        AddSpacePrefix = file.GetBool("tokenizer.ggml.add_space_prefix", AddSpacePrefix);
        AddBos = file.GetBool("tokenizer.ggml.add_bos_token", AddBos);
        AddEos = file.GetBool("tokenizer.ggml.add_eos_token", AddEos);
    }

    private int? Id(GgufFile file, string key, int? fallback)
    {
        var v = file.GetIntegerOrNull(key);
        if (v is >= 0 && v < Count) return (int)v.Value;
        return fallback is >= 0 && fallback < Count ? fallback : null;
    }

    private static readonly string[] EotPieces =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>"];

    private static readonly string[] EndOfGenerationPieces =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>"];

    // Chat models often store their end-of-turn tokens as normal tokens; llama.cpp recognises them by
    // text, marks them as control tokens (so they print as nothing) and stops generation on them.
    private void FindEndOfGeneration()
    {
        if (Eot is null)
        {
            foreach (var piece in EotPieces)
            {
                var id = Find(piece);
                if (id < 0) continue;
                Eot = id;
                Kinds[id] = TokenKind.Control;
                break;
            }
        }
        if (Eom is null)
        {
            var id = Find("<|eom_id|>");
            if (id >= 0)
            {
                Eom = id;
                Kinds[id] = TokenKind.Control;
            }
        }

        var eog = new HashSet<int>();
        foreach (var piece in EndOfGenerationPieces)
        {
            var id = Find(piece);
            if (id < 0) continue;
            eog.Add(id);
            Kinds[id] = TokenKind.Control;
        }
        if (Eos is { } eos) eog.Add(eos);
        if (Eot is { } eot) eog.Add(eot);
        if (Eom is { } eom) eog.Add(eom);
        EndOfGeneration = eog;
    }

    private void BuildSpecialTokenList(GgufFile file)
    {
        var special = new List<int>();
        for (var id = 0; id < Count; id++)
        {
            if ((Kinds[id] is TokenKind.Control or TokenKind.UserDefined or TokenKind.Unknown) && Pieces[id].Length > 0)
                special.Add(id);
        }
        var bytes = special.ToDictionary(id => id, id => Encoding.UTF8.GetByteCount(Pieces[id]));
        special.Sort((a, b) => bytes[a] != bytes[b] ? bytes[b].CompareTo(bytes[a]) : a.CompareTo(b));
        SpecialTokens = [.. special];

        // Model-specific whitespace stripping around special tokens, as llama.cpp applies it.
        var name = (file.GetString("general.name") ?? "").ToLowerInvariant();
        var pre = file.GetString("tokenizer.ggml.pre") ?? "";
        if (pre is "jina-v2-de" or "jina-v2-es" or "jina-v2-code")
        {
            if (Find("<mask>") is var mask and >= 0) LStrip.Add(mask);
        }
        else if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (var id in SpecialTokens) RStrip.Add(id);
            if (Find("</s>") is var eos and >= 0) RStrip.Add(eos);
            foreach (var piece in (string[])["<unk>", "<s>", "<|endoftext|>"])
            {
                if (Find(piece) is var id and >= 0) RStrip.Remove(id);
            }
        }
    }

    /// <summary>Precomputes every token's output bytes with a model-specific decoder.</summary>
    public byte[][] BuildTokenBytes(Func<int, byte[]> decode)
    {
        var result = new byte[Count][];
        for (var id = 0; id < result.Length; id++)
        {
            result[id] = Kinds[id] is TokenKind.Control or TokenKind.Unknown ? [] : decode(id);
        }
        return result;
    }
}
