using System.Text.Json;

namespace Kiln.Server.Gateway;

/// <summary>
/// A failure on the inference surface, answered in OpenAI's shape
/// <c>{"error":{"message","type","param","code"}}</c> so OpenAI clients show it as they would OpenAI's own.
/// </summary>
public sealed class OpenAiError(int status, string message, string type, string? code = null, string? param = null) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>OpenAI's error type, e.g. "invalid_request_error".</summary>
    public string Type { get; } = type;

    /// <summary>A machine-readable code, e.g. "model_not_found" or "DEPLOYMENT_SCALING_UP".</summary>
    public string? Code { get; } = code;

    /// <summary>The request field at fault, if any.</summary>
    public string? Param { get; } = param;

    /// <summary>Seconds after which a retry makes sense (sent as <c>Retry-After</c>).</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>400 for a malformed request.</summary>
    public static OpenAiError BadRequest(string message, string? param = null) => new(400, message, "invalid_request_error", "invalid_request", param);

    /// <summary>404 for a model the caller cannot use.</summary>
    public static OpenAiError ModelNotFound(string model, string why) =>
        new(404, $"The model '{model}' does not exist or is not deployed: {why}", "invalid_request_error", "model_not_found", "model");

    /// <summary>412 for an addon deployed on a deployment whose replicas could not load it.</summary>
    public static OpenAiError AddonFailed(string model, string deployment, string why) =>
        new(412, $"The addon '{model}' is deployed on {deployment} but failed to load: {why}", "invalid_request_error", "FAILED_PRECONDITION", "model");

    /// <summary>503 while a deployment wakes up.</summary>
    public static OpenAiError ScalingUp(string message, int retryAfterSeconds) =>
        new(503, message, "service_unavailable", "DEPLOYMENT_SCALING_UP") { RetryAfterSeconds = retryAfterSeconds };

    /// <summary>503 for a deployment that cannot serve (FAILED): no replica is coming, so no waiting.</summary>
    public static OpenAiError DeploymentFailed(string message) =>
        new(503, message, "service_unavailable", "DEPLOYMENT_FAILED");

    /// <summary>Writes <c>{"error":{...}}</c>.</summary>
    public void WriteBody(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", Message);
        w.WriteString("type", Type);
        if (Param is null) w.WriteNull("param"); else w.WriteString("param", Param);
        if (Code is null) w.WriteNull("code"); else w.WriteString("code", Code);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Writes the error as the response, unless the response already started.</summary>
    public async Task WriteAsync(HttpResponse response)
    {
        if (response.HasStarted)
        {
            return;
        }
        response.Clear();
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfterSeconds is { } s)
        {
            response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteBody(w);
        }
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }
}
