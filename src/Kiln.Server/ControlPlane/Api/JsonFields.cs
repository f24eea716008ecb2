using System.Text.Json;
using Kiln.Core.Errors;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>Typed reads of optional request fields, with errors naming the field.</summary>
public static class JsonFields
{
    /// <summary>The string field, or null when absent or null; INVALID_ARGUMENT for another type.</summary>
    public static string? String(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : throw KilnError.InvalidArgument($"{name}: must be a string, got {v.ValueKind.ToString().ToLowerInvariant()}");
    }

    /// <summary>
    /// The number field as a decimal, or null when absent or null; INVALID_ARGUMENT for another type
    /// or for a number outside decimal's range (such as 1e400), never an overflow.
    /// </summary>
    public static decimal? Decimal(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw KilnError.InvalidArgument($"{name}: must be a number, got {v.ValueKind.ToString().ToLowerInvariant()}");
        }
        return v.TryGetDecimal(out var d)
            ? d
            : throw KilnError.InvalidArgument($"{name}: {Excerpt(v)} is out of range; the largest allowed is {decimal.MaxValue}");
    }

    /// <summary>The value's JSON text, cut short so an error message never echoes a huge input.</summary>
    public static string Excerpt(JsonElement v)
    {
        var text = v.GetRawText();
        return text.Length <= 64 ? text : text[..64] + "...";
    }
}
