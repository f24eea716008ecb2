using System.Buffers;

namespace Kiln.Server.Gateway;

/// <summary>
/// Passes a replica's server-sent events through one at a time, noting the usage chunk and, when
/// the gateway asked for usage on the client's behalf, removing it and the <c>"usage":null</c>
/// fields the client did not ask for.
/// </summary>
public sealed class SseRewriter(bool stripUsage)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] NullUsageSuffix = ",\"usage\":null}"u8.ToArray();
    private static readonly byte[] UsageField = "\"usage\":{"u8.ToArray();

    /// <summary>The usage reported so far, if any.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>
    /// Writes the event <paramref name="evt"/> (its text without the blank line that ends it) to
    /// <paramref name="output"/>, with its terminator, unless it is dropped.
    /// </summary>
    public void Write(ReadOnlySpan<byte> evt, IBufferWriter<byte> output)
    {
        if (evt.StartsWith(DataPrefix) && evt.Length > DataPrefix.Length && evt[DataPrefix.Length] == (byte)'{')
        {
            var json = evt[DataPrefix.Length..];
            if (json.IndexOf(UsageField) >= 0 && TokenUsage.TryRead(json, out var usage, out var emptyChoices))
            {
                Usage = usage;
                if (stripUsage && emptyChoices)
                {
                    return;
                }
            }
            if (stripUsage && json.EndsWith(NullUsageSuffix))
            {
                output.Write(evt[..^NullUsageSuffix.Length]);
                output.Write("}\n\n"u8);
                return;
            }
        }
        output.Write(evt);
        output.Write("\n\n"u8);
    }
}
