using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Logging;

/// <summary>
/// Gives every HTTP request an ID: the client's <c>X-Request-Id</c> when it is a plain token, else a
/// fresh one. It becomes <see cref="HttpContext.TraceIdentifier"/>, is echoed in the response's
/// <c>X-Request-Id</c> (set as headers go out, so error paths that clear the response keep it);
/// the log lines about a request name it as their <c>RequestId</c> field.
/// </summary>
public static class RequestIds
{
    /// <summary>The header that carries the ID both ways.</summary>
    public const string Header = "X-Request-Id";

    private const int MaxLength = 128;

    /// <summary>Installs the middleware; put it first, so every later component sees the ID.</summary>
    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app)
    {
        return app.Use(async (ctx, next) =>
        {
            var id = Accept(ctx.Request.Headers[Header].ToString()) ?? New();
            ctx.TraceIdentifier = id;
            ctx.Response.OnStarting(() =>
            {
                ctx.Response.Headers[Header] = id;
                return Task.CompletedTask;
            });
            await next(ctx);
        });
    }

    /// <summary>The client's ID when it is 1-128 characters of letters, digits and <c>-_.:</c>; else null.</summary>
    public static string? Accept(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate) || candidate.Length > MaxLength)
        {
            return null;
        }
        foreach (var c in candidate)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return null;
            }
        }
        return candidate;
    }

    /// <summary>A fresh ID.</summary>
    public static string New() => RandomIds.New("req_", 24);
}
