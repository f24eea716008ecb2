namespace Kiln.Core.Errors;

/// <summary>Wire names ("INVALID_ARGUMENT") and HTTP statuses of <see cref="StatusCode"/>.</summary>
/// <remarks>
/// HTTP statuses follow Google's published mapping, so FAILED_PRECONDITION is 400 and the
/// optimistic-concurrency conflict (ABORTED) is 409 like ALREADY_EXISTS.
/// </remarks>
public static class StatusCodes
{
    private static readonly (StatusCode Code, string Name, int Http)[] Table =
    [
        (StatusCode.Ok, "OK", 200),
        (StatusCode.Cancelled, "CANCELLED", 499),
        (StatusCode.Unknown, "UNKNOWN", 500),
        (StatusCode.InvalidArgument, "INVALID_ARGUMENT", 400),
        (StatusCode.DeadlineExceeded, "DEADLINE_EXCEEDED", 504),
        (StatusCode.NotFound, "NOT_FOUND", 404),
        (StatusCode.AlreadyExists, "ALREADY_EXISTS", 409),
        (StatusCode.PermissionDenied, "PERMISSION_DENIED", 403),
        (StatusCode.ResourceExhausted, "RESOURCE_EXHAUSTED", 429),
        (StatusCode.FailedPrecondition, "FAILED_PRECONDITION", 400),
        (StatusCode.Aborted, "ABORTED", 409),
        (StatusCode.OutOfRange, "OUT_OF_RANGE", 400),
        (StatusCode.Unimplemented, "UNIMPLEMENTED", 501),
        (StatusCode.Internal, "INTERNAL", 500),
        (StatusCode.Unavailable, "UNAVAILABLE", 503),
        (StatusCode.DataLoss, "DATA_LOSS", 500),
        (StatusCode.Unauthenticated, "UNAUTHENTICATED", 401),
    ];

    /// <summary>The wire name, e.g. "NOT_FOUND".</summary>
    public static string ToWireName(this StatusCode code) => Find(code).Name;

    /// <summary>The HTTP status the control plane answers with for this code.</summary>
    public static int ToHttpStatus(this StatusCode code) => Find(code).Http;

    /// <summary>Parses a wire name such as "NOT_FOUND" (exact, upper case).</summary>
    public static bool TryParse(string? name, out StatusCode code)
    {
        foreach (var row in Table)
        {
            if (row.Name == name)
            {
                code = row.Code;
                return true;
            }
        }
        code = StatusCode.Unknown;
        return false;
    }

    private static (StatusCode Code, string Name, int Http) Find(StatusCode code)
    {
        foreach (var row in Table)
        {
            if (row.Code == code)
            {
                return row;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(code), code, "unknown status code");
    }
}
