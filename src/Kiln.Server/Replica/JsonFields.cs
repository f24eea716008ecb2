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
