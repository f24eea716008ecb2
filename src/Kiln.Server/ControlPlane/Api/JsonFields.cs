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
}
