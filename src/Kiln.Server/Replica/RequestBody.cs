using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>Reads a request's JSON body, refusing what no endpoint could use with a 400.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Duplicate keys are refused, not resolved: the gateway parses the same body, and two parsers
    /// choosing different values for one key would let a request mean one thing to each.
    /// </summary>
    public static readonly JsonDocumentOptions BodyOptions = new() { AllowDuplicateProperties = false };

    public static async Task<JsonDocument> ReadAsync(HttpContext ctx)
    {
        JsonDocument body;
        try
        {
            if (ctx.Request.ContentLength is { } length && length >= LargeBodies.Threshold)
            {
                // Read into an array of its own, and parsed on a thread of its own into a document
                // that owns exact-size copies: the shared array pool keeps what is returned to it,
                // per thread, so pooled buffers this size would outlive the request many times over.
                var bytes = new byte[length];
                await ctx.Request.Body.ReadExactlyAsync(bytes, ctx.RequestAborted);
                body = await Task.Factory.StartNew(() =>
                {
                    var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = BodyOptions.MaxDepth });
                    var document = JsonDocument.ParseValue(ref reader);
                    // Anything but whitespace after the value makes Read throw, as Parse would.
                    if (reader.Read()) throw new JsonException("unexpected content after the body's JSON value");
                    return document;
                }, ctx.RequestAborted, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            else
            {
                body = await JsonDocument.ParseAsync(ctx.Request.Body, BodyOptions, ctx.RequestAborted);
            }
        }
        catch (EndOfStreamException)
        {
            throw ApiException.Invalid("The request body is shorter than its Content-Length.", code: "invalid_json");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The duplicate-key check reads keys, and throws InvalidOperationException on unreadable ones.
            throw ApiException.Invalid($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json");
        }
        // Only the large-body path parsed without the duplicate-key check.
        if (JsonFields.FirstUnusable(body.RootElement, duplicates: ctx.Request.ContentLength >= LargeBodies.Threshold) is { } problem)
        {
            body.Dispose();
            throw ApiException.Invalid($"We could not parse the JSON body of your request: {problem}.", code: "invalid_json");
        }
        return body;
    }
}
