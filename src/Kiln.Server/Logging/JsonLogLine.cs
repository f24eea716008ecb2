using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Kiln.Server.Logging;

/// <summary>
/// Forms one log entry as a line of JSON with the fields of .NET's JSON console formatter
/// (<c>Timestamp</c> in UTC, <c>EventId</c>, <c>LogLevel</c>, <c>Category</c>, <c>Message</c>,
/// <c>Exception</c> when there is one, and <c>State</c>: the message and its fields), so tools
/// written for that format read Kiln's lines unchanged.
/// </summary>
public static class JsonLogLine
{
    /// <summary>Writes the entry and its newline to <paramref name="output"/> through <paramref name="json"/> (reset here).</summary>
    public static void Write<TState>(
        Utf8JsonWriter json, IBufferWriter<byte> output, DateTimeOffset time, string category,
        LogLevel level, EventId eventId, TState state, Exception? exception, string message)
    {
        json.Reset(output);
        json.WriteStartObject();
        Span<char> stamp = stackalloc char[32];
        time.UtcDateTime.TryFormat(stamp, out var n, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        json.WriteString("Timestamp"u8, stamp[..n]);
        json.WriteNumber("EventId"u8, eventId.Id);
        json.WriteString("LogLevel"u8, LevelName(level));
        json.WriteString("Category"u8, category);
        json.WriteString("Message"u8, message);
        if (exception is not null)
        {
            json.WriteString("Exception"u8, exception.ToString());
        }
        if (state is not null)
        {
            json.WriteStartObject("State"u8);
            json.WriteString("Message"u8, state.ToString());
            if (state is IReadOnlyCollection<KeyValuePair<string, object?>> fields)
            {
                foreach (var field in fields)
                {
                    WriteField(json, field.Key, field.Value);
                }
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.Flush();
        output.Write("\n"u8);
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "Trace",
        LogLevel.Debug => "Debug",
        LogLevel.Information => "Information",
        LogLevel.Warning => "Warning",
        LogLevel.Error => "Error",
        LogLevel.Critical => "Critical",
        _ => level.ToString(),
    };

    // Numbers and booleans stay JSON numbers and booleans, as the console formatter writes them.
    private static void WriteField(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(key); break;
            case bool b: json.WriteBoolean(key, b); break;
            case int i: json.WriteNumber(key, i); break;
            case long l: json.WriteNumber(key, l); break;
            case double d: json.WriteNumber(key, d); break;
            case float f: json.WriteNumber(key, f); break;
            case decimal m: json.WriteNumber(key, m); break;
            case byte u8: json.WriteNumber(key, u8); break;
            case sbyte i8: json.WriteNumber(key, i8); break;
            case short i16: json.WriteNumber(key, i16); break;
            case ushort u16: json.WriteNumber(key, u16); break;
            case uint u32: json.WriteNumber(key, u32); break;
            case ulong u64: json.WriteNumber(key, u64); break;
            case string s: json.WriteString(key, s); break;
            case IFormattable formattable: json.WriteString(key, formattable.ToString(null, CultureInfo.InvariantCulture)); break;
            default: json.WriteString(key, value.ToString()); break;
        }
    }
}
