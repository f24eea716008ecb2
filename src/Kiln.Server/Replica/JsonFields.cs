using System.Runtime.InteropServices;
using System.Text.Json;

namespace Kiln.Server.Replica;

/// <summary>Typed reads of request fields; every wrong type or range names the field.</summary>
internal static class JsonFields
{
    /// <summary>The field's value, or false when it is absent or JSON null (both mean "default").</summary>
    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    public static ApiException WrongType(string field, string expected, JsonElement got) =>
        ApiException.Invalid($"Invalid type for '{field}': expected {expected}, but got {Describe(got)}.", field, "invalid_type");

    public static ApiException OutOfRange(string field, string range, string got) =>
        ApiException.Invalid($"Invalid value for '{field}': expected {range}, but got {got}.", field, "invalid_value");

    public static long? Integer(JsonElement obj, string name, long min, long max)
    {
        if (!TryGet(obj, name, out var v)) return null;
        return IntegerValue(v, name, min, max);
    }

    public static long IntegerValue(JsonElement v, string field, long min, long max)
    {
        if (v.ValueKind != JsonValueKind.Number) throw WrongType(field, "an integer", v);
        if (!v.TryGetInt64(out var n))
        {
            if (v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) > long.MaxValue / 2.0)
                throw OutOfRange(field, $"an integer between {min} and {max}", v.GetRawText());
            throw WrongType(field, "an integer", v);
        }
        if (n < min || n > max) throw OutOfRange(field, $"an integer between {min} and {max}", n.ToString());
        return n;
    }

    public static double? Number(JsonElement obj, string name, double min, double max)
    {
        if (!TryGet(obj, name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d)) throw WrongType(name, "a number", v);
        if (d < min || d > max) throw OutOfRange(name, $"a number between {min} and {max}", v.GetRawText());
        return d;
    }

    public static bool? Bool(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "a boolean", v),
        };
    }

    public static string? String(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw WrongType(name, "a string", v);
        return v.GetString();
    }

    /// <summary>
    /// What first makes a parsed body unusable, or null: a string (value or key) that parses but
    /// cannot be read (invalid UTF-8, or an unpaired surrogate escape such as <c>"\ud800"</c>: these
    /// throw only when read, so bodies are checked once up front; only strings with a <c>\u</c>
    /// escape are decoded, the rest validated in place), or with <paramref name="duplicates"/> a key
    /// repeated within one object (for documents parsed without that check).
    /// </summary>
    public static string? FirstUnusable(JsonElement e, bool duplicates) => Find(e, duplicates) switch
    {
        null => null,
        (true, var path) => $"the key ${path} appears twice",
        (false, var path) => $"the string at ${path} is not valid UTF-8 or has an unpaired surrogate escape",
    };

    // The path is built only on the way back from a finding, so a clean body of a million items costs no strings.
    private static (bool Duplicate, string Path)? Find(JsonElement e, bool duplicates)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var names = duplicates ? new HashSet<string>(StringComparer.Ordinal) : null;
                foreach (var p in e.EnumerateObject())
                {
                    if (!Readable(JsonMarshal.GetRawUtf8PropertyName(p), () => p.Name)) return (false, " (a key)");
                    if (names is not null && !names.Add(p.Name)) return (true, "." + p.Name);
                    if (Find(p.Value, duplicates) is { } bad) return bad with { Path = "." + p.Name + bad.Path };
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (Find(item, duplicates) is { } bad) return bad with { Path = $"[{i}]{bad.Path}" };
                    i++;
                }
                return null;
            case JsonValueKind.String:
                return Readable(JsonMarshal.GetRawUtf8Value(e), e.GetString) ? null : (false, "");
            default:
                return null;
        }
    }

    private static bool Readable(ReadOnlySpan<byte> raw, Func<string?> read)
    {
        if (raw.IndexOf("\\u"u8) < 0) return System.Text.Unicode.Utf8.IsValid(raw);
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
