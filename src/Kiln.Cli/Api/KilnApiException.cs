using System.Net;

namespace Kiln.Cli.Api;

/// <summary>An error answered by the control plane: its HTTP status plus the API's code and message.</summary>
public sealed class KilnApiException(HttpStatusCode status, string code, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The API error code, e.g. NOT_FOUND, or "HTTP 502" when the body carried none.</summary>
    public string Code { get; } = code;

    public bool IsNotFound => Status == HttpStatusCode.NotFound;
}
