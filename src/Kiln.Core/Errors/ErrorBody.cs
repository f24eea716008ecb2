namespace Kiln.Core.Errors;

/// <summary>
/// The control plane's JSON error body, <c>{ "code": "NOT_FOUND", "message": "..." }</c>
/// (camelCase under the web serializer defaults).
/// </summary>
/// <param name="Code">Wire name of the status code.</param>
/// <param name="Message">Human-readable explanation.</param>
public sealed record ErrorBody(string Code, string Message);
