using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Formatting;

/// <summary>Tolerant reads from API resources, and the indented form <c>-o json</c> prints.</summary>
public static class Json
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // Keep names and messages readable rather than \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Pretty(JsonNode node) => node.ToJsonString(Indented);

    /// <summary>The value at a dotted path as text ("" when absent or null).</summary>
    /// <summary>
    /// A timestamp at <paramref name="path"/> in one fixed form, <c>2026-12-04T14:05:12.500Z</c>
    /// (UTC, always three fraction digits), whatever precision the server sent; "" when absent,
    /// the raw text when it is not a timestamp.
    /// </summary>
    public static string Time(JsonNode? node, string path)
    {
        var text = Str(node, path);
        return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var t)
            ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)
            : text;
    }

    public static string Str(JsonNode? node, string path)
    {
        var value = At(node, path);
        return value switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            JsonValue v => v.ToJsonString(),
            _ => value.ToJsonString(),
        };
    }

    /// <summary>An integer at a dotted path; int64s may arrive as JSON strings, as in protobuf JSON.</summary>
    public static long? Long(JsonNode? node, string path)
    {
        if (At(node, path) is not JsonValue v)
            return null;
        var text = v.GetValueKind() switch
        {
            JsonValueKind.Number => v.ToJsonString(),
            JsonValueKind.String => v.GetValue<string>(),
            _ => null,
        };
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l))
            return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            return (long)d;
        return null;
    }

    public static JsonNode? At(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node))
                return null;
        }
        return node;
    }

    public static IEnumerable<JsonObject> Objects(JsonNode? node, string path) =>
        At(node, path) is JsonArray array ? array.OfType<JsonObject>() : [];
}
