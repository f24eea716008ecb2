namespace Kiln.Server.Replica;

/// <summary>An error reported to the client as OpenAI-style JSON with the given HTTP status.</summary>
public sealed class ApiException(int status, string message, string type, string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    /// <summary>Seconds after which a retry makes sense, sent as <c>Retry-After</c>.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiException Invalid(string message, string? param = null, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static ApiException Unsupported(string param) =>
        Invalid($"'{param}' is not supported by this server.", param, "unsupported_parameter");
}
