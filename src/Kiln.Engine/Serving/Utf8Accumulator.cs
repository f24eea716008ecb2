using System.Text;

namespace Kiln.Engine.Serving;

/// <summary>
/// Turns a stream of token bytes into text without ever splitting a character: bytes of an
/// incomplete UTF-8 sequence stay inside until the rest arrives; invalid bytes become U+FFFD.
/// </summary>
public sealed class Utf8Accumulator
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Decodes what is complete so far; the span is valid until the next call.</summary>
    public ReadOnlySpan<char> Append(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>Ends the stream: a dangling partial character becomes U+FFFD.</summary>
    public ReadOnlySpan<char> Flush() => Decode([], flush: true);

    public void Reset() => _decoder.Reset();

    private ReadOnlySpan<char> Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        var needed = _decoder.GetCharCount(bytes, flush);
        if (needed > _chars.Length) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        var n = _decoder.GetChars(bytes, _chars, flush);
        return _chars.AsSpan(0, n);
    }
}
