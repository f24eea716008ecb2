using System.Text;

namespace Kiln.Engine.Tokenizers;

/// <summary>
/// Turns a stream of token bytes into text without ever splitting a character: a token may end
/// in the middle of a multi-byte UTF-8 sequence (byte-fallback and byte-level tokens often do),
/// so an incomplete trailing sequence is held back until the bytes that complete it arrive.
/// Invalid bytes become U+FFFD. Not thread-safe; use one per generated sequence.
/// </summary>
public sealed class Utf8StreamDecoder
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();

    /// <summary>Adds bytes and returns the text they complete (possibly empty).</summary>
    public string Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "";
        var count = _decoder.GetCharCount(bytes, flush: false);
        if (count == 0)
        {
            // Still feed the bytes so the decoder remembers the partial sequence.
            _decoder.GetChars(bytes, Span<char>.Empty, flush: false);
            return "";
        }
        var chars = count <= 256 ? stackalloc char[count] : new char[count];
        var written = _decoder.GetChars(bytes, chars, flush: false);
        return new string(chars[..written]);
    }

    /// <summary>Ends the stream: a held-back incomplete sequence becomes U+FFFD.</summary>
    public string Flush()
    {
        var count = _decoder.GetCharCount([], flush: true);
        if (count == 0)
        {
            _decoder.Reset();
            return "";
        }
        var chars = new char[count];
        var written = _decoder.GetChars([], chars, flush: true);
        _decoder.Reset();
        return new string(chars, 0, written);
    }

    /// <summary>Forgets any held-back bytes.</summary>
    public void Reset() => _decoder.Reset();
}
