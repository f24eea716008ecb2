using System.Buffers;
using System.Text.Json;

namespace Kiln.Server.Gateway;

/// <summary>
/// Passes a replica's server-sent events through unchanged, one at a time, and notes whether the
/// stream ended as OpenAI's streams end: with <c>data: [DONE]</c>, or with an error event (after
/// which OpenAI's clients stop). A stream that ends otherwise was cut off.
/// </summary>
public sealed class SseRelay
{
    private static readonly byte[] Done = "data: [DONE]"u8.ToArray();
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();

    /// <summary>True once the stream's last event went through.</summary>
    public bool Ended { get; private set; }

    /// <summary>Events relayed.</summary>
    public int Events { get; private set; }

    /// <summary>
    /// Writes the event <paramref name="evt"/> (its text without the blank line that ends it) to
    /// <paramref name="output"/> with its terminator, straight from the read buffer's segments: an
    /// event that spans two of them is not gathered into a copy first.
    /// </summary>
    public void Write(in ReadOnlySequence<byte> evt, IBufferWriter<byte> output)
    {
        Ended = IsDone(evt) || IsErrorEvent(evt);
        Events++;
        foreach (var segment in evt)
        {
            output.Write(segment.Span);
        }
        output.Write("\n\n"u8);
    }

    /// <summary>Ends the stream with an error event in OpenAI's shape (and no <c>[DONE]</c>).</summary>
    public void WriteError(IBufferWriter<byte> output, OpenAiError error)
    {
        output.Write("data: "u8);
        using (var w = new Utf8JsonWriter(output))
        {
            error.WriteBody(w);
        }
        output.Write("\n\n"u8);
        Ended = true;
    }

    private static bool IsDone(in ReadOnlySequence<byte> evt) =>
        evt.Length == Done.Length && new SequenceReader<byte>(evt).IsNext(Done);

    /// <summary>True for a <c>data:</c> event whose JSON object's first field is <c>error</c>.</summary>
    public static bool IsErrorEvent(in ReadOnlySequence<byte> evt)
    {
        var reader = new SequenceReader<byte>(evt);
        if (!reader.IsNext(DataPrefix, advancePast: true))
        {
            return false;
        }
        reader.AdvancePast((byte)' ');
        if (!reader.TryPeek(out var first) || first != (byte)'{')
        {
            return false;
        }
        try
        {
            var json = new Utf8JsonReader(reader.UnreadSequence);
            return json.Read() && json.Read() && json.TokenType == JsonTokenType.PropertyName && json.ValueTextEquals("error"u8);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
