namespace Kiln.Engine.Tokenizers;

/// <summary>
/// GPT-2's reversible byte-to-character mapping: printable Latin-1 bytes map to themselves and the
/// rest to U+0100 onwards, so every byte sequence becomes visible text that BPE can merge.
/// </summary>
internal static class ByteLevel
{
    public static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = (char)(printable ? b : next++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var d = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++) d[ByteToChar[b]] = (byte)b;
        return d;
    }

    /// <summary>
    /// Turns a byte-level piece back into bytes. A character outside the mapping is kept visible as
    /// llama.cpp does ("[UNK_BYTE_0x…]") rather than silently dropped.
    /// </summary>
    public static byte[] Decode(string piece)
    {
        var output = new List<byte>(piece.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in piece.EnumerateRunes())
        {
            if (rune.Value < 0x10000 && CharToByte.TryGetValue((char)rune.Value, out var b))
            {
                output.Add(b);
                continue;
            }
            var n = rune.EncodeToUtf8(utf8);
            var text = "[UNK_BYTE_0x" + Convert.ToHexStringLower(utf8[..n]) + piece + "]";
            output.AddRange(System.Text.Encoding.UTF8.GetBytes(text));
        }
        return [.. output];
    }
}
