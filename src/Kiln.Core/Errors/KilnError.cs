namespace Kiln.Core.Errors;

/// <summary>
/// A control-plane failure with a canonical code, the HTTP status to answer with and a message fit
/// for the caller. Thrown by the store and the domain; the API turns it into <see cref="ErrorBody"/>.
/// </summary>
public sealed class KilnError : Exception
{
    /// <summary>Creates an error; <paramref name="code"/> must not be <see cref="StatusCode.Ok"/>.</summary>
    public KilnError(StatusCode code, string message, IReadOnlyList<FieldViolation>? violations = null, Exception? inner = null)
        : base(message, inner)
    {
        if (code == StatusCode.Ok)
        {
            throw new ArgumentException("an error cannot have code OK", nameof(code));
        }
        Code = code;
        Violations = violations ?? [];
    }

    /// <summary>The canonical code.</summary>
    public StatusCode Code { get; }

    /// <summary>The HTTP status for <see cref="Code"/>.</summary>
    public int HttpStatus => Code.ToHttpStatus();

    /// <summary>Per-field problems behind an INVALID_ARGUMENT, empty otherwise.</summary>
    public IReadOnlyList<FieldViolation> Violations { get; }

    /// <summary>The JSON body to send.</summary>
    public ErrorBody ToBody() => new(Code.ToWireName(), Message);

    /// <summary>"CODE: message".</summary>
    public override string ToString() => $"{Code.ToWireName()}: {Message}";

    /// <summary>400 INVALID_ARGUMENT.</summary>
    public static KilnError InvalidArgument(string message) => new(StatusCode.InvalidArgument, message);

    /// <summary>400 INVALID_ARGUMENT listing every violation in the message, "a: x; b: y".</summary>
    public static KilnError InvalidArgument(IReadOnlyList<FieldViolation> violations)
    {
        ArgumentOutOfRangeException.ThrowIfZero(violations.Count);
        return new(StatusCode.InvalidArgument, string.Join("; ", violations), violations);
    }

    /// <summary>401 UNAUTHENTICATED.</summary>
    public static KilnError Unauthenticated(string message) => new(StatusCode.Unauthenticated, message);

    /// <summary>403 PERMISSION_DENIED.</summary>
    public static KilnError PermissionDenied(string message) => new(StatusCode.PermissionDenied, message);

    /// <summary>404 NOT_FOUND for the named resource, e.g. "deployment accounts/a/deployments/d not found".</summary>
    public static KilnError NotFound(string kind, string name) => new(StatusCode.NotFound, $"{kind} {name} not found");

    /// <summary>409 ALREADY_EXISTS for the named resource.</summary>
    public static KilnError AlreadyExists(string kind, string name) => new(StatusCode.AlreadyExists, $"{kind} {name} already exists");

    /// <summary>400 FAILED_PRECONDITION.</summary>
    public static KilnError FailedPrecondition(string message) => new(StatusCode.FailedPrecondition, message);

    /// <summary>409 ABORTED: an optimistic-concurrency check failed.</summary>
    public static KilnError Conflict(string message) => new(StatusCode.Aborted, message);

    /// <summary>429 RESOURCE_EXHAUSTED.</summary>
    public static KilnError ResourceExhausted(string message) => new(StatusCode.ResourceExhausted, message);

    /// <summary>503 UNAVAILABLE.</summary>
    public static KilnError Unavailable(string message) => new(StatusCode.Unavailable, message);

    /// <summary>500 INTERNAL.</summary>
    public static KilnError Internal(string message, Exception? inner = null) => new(StatusCode.Internal, message, null, inner);
}
