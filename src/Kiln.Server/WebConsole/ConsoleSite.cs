using Microsoft.Extensions.FileProviders;

namespace Kiln.Server.WebConsole;

/// <summary>
/// The web console under <c>/console/</c>: static files embedded in the server assembly, served
/// without a key (they hold no data) and under a strict Content-Security-Policy. The pages sign in
/// with an API key kept in session storage and use the REST API like any other client, so the
/// console adds no way to reach data that the API does not authorise.
/// </summary>
public static class ConsoleSite
{
    /// <summary>Where the console lives.</summary>
    public const string Path = "/console";

    /// <summary>
    /// Scripts, styles, images and connections from this origin only; no inline script or style, no
    /// eval, no framing, no forms posted elsewhere, no base-URL tricks.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// Serves the console ahead of authentication: <c>/console</c> redirects to <c>/console/</c>,
    /// which answers <c>index.html</c>; an unknown file is 404.
    /// </summary>
    public static void Use(WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleSite).Assembly, "WebConsole/wwwroot");
        app.Map(Path, console =>
        {
            console.Use(async (ctx, next) =>
            {
                var headers = ctx.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                // A new server version must not run against cached old modules.
                headers.CacheControl = "no-cache";
                if (!HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method))
                {
                    ctx.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                    headers.Allow = "GET, HEAD";
                    return;
                }
                if (!ctx.Request.PathBase.HasValue || ctx.Request.Path.HasValue)
                {
                    await next(ctx);
                    return;
                }
                ctx.Response.Redirect($"{ctx.Request.PathBase}/");
            });
            console.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            console.UseStaticFiles(new StaticFileOptions { FileProvider = files });
            console.Run(ctx =>
            {
                ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                return ctx.Response.WriteAsync($"no console file {ctx.Request.Path}");
            });
        });
    }
}
