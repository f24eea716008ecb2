using System.Text.Json;
using Kiln.Core.Errors;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>Turns failures into the control plane's <c>{ "code", "message" }</c> error bodies.</summary>
public sealed class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> log)
{
    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            if (Kiln.Server.Replica.RequestLimits.Check(context.Request) is { } head)
            {
                throw head;
            }
            await next(context);
        }
        catch (ApiError e)
        {
            await WriteAsync(context, e.HttpStatus, e.Error.ToBody());
        }
        catch (KilnError e) when (Kiln.Server.Gateway.InferencePaths.IsInference(context.Request.Path))
        {
            // OpenAI clients read errors in OpenAI's shape only.
            var (type, code) = e.HttpStatus switch
            {
                401 => ("invalid_request_error", "invalid_api_key"),
                403 => ("invalid_request_error", "permission_denied"),
                404 => ("invalid_request_error", "not_found"),
                >= 500 => ("server_error", e.Code.ToWireName()),
                _ => ("invalid_request_error", e.Code.ToWireName()),
            };
            await new Kiln.Server.Gateway.OpenAiError(e.HttpStatus, e.Message, type, code).WriteAsync(context.Response);
        }
        catch (KilnError e)
        {
            await WriteAsync(context, e.HttpStatus, e.ToBody());
        }
        catch (BadHttpRequestException e)
        {
            await WriteAsync(context, e.StatusCode, new ErrorBody(StatusCode.InvalidArgument.ToWireName(), e.Message));
        }
        catch (JsonException e)
        {
            await WriteAsync(context, 400, new ErrorBody(StatusCode.InvalidArgument.ToWireName(), $"malformed JSON body: {e.Message}"));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception e)
        {
            log.LogError(e, "{RequestId} {Method} {Path} failed", context.TraceIdentifier, context.Request.Method, context.Request.Path);
            await WriteAsync(context, 500, new ErrorBody(StatusCode.Internal.ToWireName(), $"internal error: {e.Message}"));
        }
    }

    private static async Task WriteAsync(HttpContext context, int status, ErrorBody body)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        if (Kiln.Server.Gateway.InferencePaths.IsInference(context.Request.Path))
        {
            var type = status >= 500 ? "server_error" : "invalid_request_error";
            await new Kiln.Server.Gateway.OpenAiError(status, body.Message, type, body.Code).WriteAsync(context.Response);
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(body, ApiJson.Options);
    }
}

/// <summary>A <see cref="KilnError"/> answered with a specific HTTP status (e.g. FAILED_PRECONDITION as 409).</summary>
public sealed class ApiError(int httpStatus, KilnError error) : Exception(error.Message)
{
    /// <summary>The HTTP status.</summary>
    public int HttpStatus { get; } = httpStatus;

    /// <summary>The error.</summary>
    public KilnError Error { get; } = error;
}
