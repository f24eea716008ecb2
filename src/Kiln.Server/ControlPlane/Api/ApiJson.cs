using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>JSON conventions of the control plane: camelCase, nulls omitted, RFC 3339 UTC times.</summary>
public static class ApiJson
{
    /// <summary>Serializer options for every response.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Quotes and angle brackets stay readable in messages; responses are never embedded in HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>"2026-11-21T09:30:00.000Z": UTC, always three fraction digits, so times line up and compare as text.</summary>
    public static string Time(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary><see cref="Time(DateTimeOffset)"/> or null.</summary>
    public static string? Time(DateTimeOffset? t) => t is { } v ? Time(v) : null;

    /// <summary>A 200 JSON response.</summary>
    public static IResult Ok(object value) => Results.Json(value, Options);

    /// <summary>The page request from <c>pageSize</c> and <c>pageToken</c>.</summary>
    public static PageRequest Page(HttpRequest request)
    {
        var size = 0;
        var raw = request.Query["pageSize"].ToString();
        if (raw.Length > 0 && !int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out size))
        {
            throw Kiln.Core.Errors.KilnError.InvalidArgument($"pageSize must be an integer, got \"{raw}\"");
        }
        var token = request.Query["pageToken"].ToString();
        var page = new PageRequest(size, token.Length == 0 ? null : token);
        _ = page.EffectiveSize; // rejects a negative size up front
        return page;
    }

    /// <summary>True when the query parameter is "true" (any case).</summary>
    public static bool Flag(HttpRequest request, string name) =>
        string.Equals(request.Query[name].ToString(), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Duplicate keys are refused (a malformed body, 400), as the inference surface refuses them.</summary>
    private static readonly JsonDocumentOptions BodyOptions = new() { AllowDuplicateProperties = false };

    /// <summary>The request body as a JSON object; an empty body is an empty object.</summary>
    public static async Task<JsonElement> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        if (buffer.Length == 0)
        {
            return JsonDocument.Parse("{}").RootElement;
        }
        buffer.Position = 0;
        JsonElement root;
        try
        {
            root = (await JsonDocument.ParseAsync(buffer, BodyOptions, ct)).RootElement;
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-key check reads keys, and throws this on unreadable ones.
            throw Kiln.Core.Errors.KilnError.InvalidArgument($"malformed JSON body: {e.Message}");
        }
        if (Kiln.Server.Replica.JsonFields.FirstUnusable(root, duplicates: false) is { } problem)
        {
            throw Kiln.Core.Errors.KilnError.InvalidArgument($"malformed JSON body: {problem}");
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Kiln.Core.Errors.KilnError.InvalidArgument($"the request body must be a JSON object, got {root.ValueKind}");
        }
        return root;
    }
}
