using System.Buffers;
using System.Text.Json;
using Kiln.Engine.Serving;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>Writes JSON bodies with <see cref="Utf8JsonWriter"/> (no reflection, exact field names).</summary>
internal static class ApiResponses
{
    public static async Task WriteJsonAsync(HttpContext ctx, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.Options)) write(w);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext ctx, ApiException e)
    {
        if (e.RetryAfterSeconds is { } s) ctx.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteJsonAsync(ctx, e.Status, w => WriteError(w, e));
    }

    public static void WriteError(Utf8JsonWriter w, ApiException e)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", e.Message);
        w.WriteString("type", e.Type);
        if (e.Param is null) w.WriteNull("param"); else w.WriteString("param", e.Param);
        if (e.Code is null) w.WriteNull("code"); else w.WriteString("code", e.Code);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The fields every completion object and chunk starts with.</summary>
    public static void WriteHeader(Utf8JsonWriter w, string id, string objectType, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteNull("system_fingerprint");
    }

    /// <summary>Opens a streamed chunk of one choice: the common fields, then the choice and its index.</summary>
    public static void BeginChunkChoice(Utf8JsonWriter w, string id, string objectType, long created, string model, int index)
    {
        w.WriteStartObject();
        WriteHeader(w, id, objectType, created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
    }

    /// <summary>Closes what <see cref="BeginChunkChoice"/> opened, with the finish reason (null while the choice runs).</summary>
    public static void EndChunkChoice(Utf8JsonWriter w, FinishReason? finish, bool includeUsage)
    {
        if (finish is { } f) w.WriteString("finish_reason", f.ToApiString()); else w.WriteNull("finish_reason");
        w.WriteEndObject();
        w.WriteEndArray();
        if (includeUsage) w.WriteNull("usage");
        w.WriteEndObject();
    }

    public static void WriteUsage(Utf8JsonWriter w, int promptTokens, int completionTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", promptTokens);
        w.WriteNumber("completion_tokens", completionTokens);
        w.WriteNumber("total_tokens", promptTokens + completionTokens);
        w.WriteEndObject();
    }

    public static string NewId(string prefix) => Kiln.Server.Logging.RandomIds.New(prefix, 24);

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
