namespace Kiln.Core.Errors;

/// <summary>
/// Canonical status codes of the control plane, named and numbered as in google.rpc.Code so that
/// Fireworks and gRPC users recognise them. <see cref="StatusCodes"/> maps them to wire names and
/// HTTP statuses.
/// </summary>
public enum StatusCode
{
    /// <summary>Not an error.</summary>
    Ok = 0,
    /// <summary>The operation was cancelled by the caller.</summary>
    Cancelled = 1,
    /// <summary>An error with no better code.</summary>
    Unknown = 2,
    /// <summary>The request is malformed or a field is out of range (400).</summary>
    InvalidArgument = 3,
    /// <summary>The operation did not finish in time (504).</summary>
    DeadlineExceeded = 4,
    /// <summary>The resource does not exist or is not visible to the caller (404).</summary>
    NotFound = 5,
    /// <summary>A resource with that name already exists (409).</summary>
    AlreadyExists = 6,
    /// <summary>The caller lacks permission (403).</summary>
    PermissionDenied = 7,
    /// <summary>A quota, spend limit or capacity is exhausted (429).</summary>
    ResourceExhausted = 8,
    /// <summary>The system is not in a state that allows the operation (400).</summary>
    FailedPrecondition = 9,
    /// <summary>A concurrent change won: re-read and retry (409).</summary>
    Aborted = 10,
    /// <summary>The value is outside the range the system supports (400).</summary>
    OutOfRange = 11,
    /// <summary>The operation is not implemented (501).</summary>
    Unimplemented = 12,
    /// <summary>An invariant broke inside Kiln (500).</summary>
    Internal = 13,
    /// <summary>The service is temporarily unable to serve; retry later (503).</summary>
    Unavailable = 14,
    /// <summary>Data was lost or corrupted (500).</summary>
    DataLoss = 15,
    /// <summary>The request carries no valid credentials (401).</summary>
    Unauthenticated = 16,
}
