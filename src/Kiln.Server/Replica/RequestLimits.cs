using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kiln.Server.Replica;

/// <summary>
/// Limits on request heads and bodies that answer in the API's error shape. Kestrel refuses a head
/// over its own limits before any middleware runs, with an empty body; so Kestrel's limits are set
/// well above Kiln's and Kiln's are checked in the pipeline, where the refusal can be shaped. Only a
/// head past Kestrel's raised limits (or one that is not HTTP at all) still gets Kestrel's bare answer.
/// </summary>
public static class RequestLimits
{
    /// <summary>Total bytes of request headers (names, values and separators): Kestrel's own default.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    public const int MaxHeaderCount = 100;

    /// <summary>Longest request target (path and query): Kestrel's default request line.</summary>
    public const int MaxTargetBytes = 8 * 1024;

    /// <summary>Raises Kestrel's head limits so that heads between Kiln's and these reach <see cref="Check"/>.</summary>
    public static void ConfigureKestrel(IWebHostBuilder web) => web.ConfigureKestrel(k =>
    {
        k.Limits.MaxRequestHeadersTotalSize = 256 * 1024;
        k.Limits.MaxRequestHeaderCount = 1000;
        k.Limits.MaxRequestLineSize = 64 * 1024;
        k.Limits.MaxRequestBufferSize = 1024 * 1024;
    });

    /// <summary>The refusal for a head over Kiln's limits, or null.</summary>
    public static BadHttpRequestException? Check(HttpRequest request)
    {
        var target = request.Path.Value?.Length + request.QueryString.Value?.Length ?? 0;
        if (target > MaxTargetBytes)
            return new BadHttpRequestException($"The request target is longer than {MaxTargetBytes} bytes.", StatusCodes.Status414UriTooLong);
        if (request.Headers.Count > MaxHeaderCount)
            return new BadHttpRequestException($"The request has more than {MaxHeaderCount} headers.", StatusCodes.Status431RequestHeaderFieldsTooLarge);
        long bytes = 0;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var v in values) bytes += name.Length + (v?.Length ?? 0) + 4; // ": " and CRLF
        }
        if (bytes > MaxHeaderBytes)
            return new BadHttpRequestException($"The request headers are larger than {MaxHeaderBytes} bytes.", StatusCodes.Status431RequestHeaderFieldsTooLarge);
        return null;
    }

    /// <summary>
    /// Caps the request body at <paramref name="limit"/> bytes: a declared length over it is refused
    /// at once, and Kestrel stops reading a streamed one there.
    /// </summary>
    public static BadHttpRequestException? LimitBody(HttpContext ctx, long limit)
    {
        if (ctx.Request.ContentLength > limit) return TooLarge(limit);
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;
        return null;
    }

    public static BadHttpRequestException TooLarge(long limit) =>
        new($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
}
