using System.Net.Sockets;
using Kiln.Core.Errors;
using Npgsql;

namespace Kiln.Store.Postgres;

/// <summary>Maps Npgsql's exceptions onto Kiln's errors, as the SQLite store maps SQLite's.</summary>
internal static class PostgresErrors
{
    public const string SerializationFailure = "40001";
    public const string DeadlockDetected = "40P01";

    /// <summary>A conflict with a concurrent transaction: the whole transaction may be run again.</summary>
    public static bool IsRetryable(Exception e) => e is PostgresException { SqlState: SerializationFailure or DeadlockDetected };

    /// <summary>
    /// The database could not be reached or went away (refused, reset, timed out, shut down, out of
    /// connections): the operation may succeed later, and pooled connections are suspect.
    /// </summary>
    public static bool IsConnectionLoss(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
            || p.SqlState is "57P01" or "57P02" or "57P03" or "53300", // shutdown, crash, starting up, too many connections
        NpgsqlException => true, // Npgsql's own errors are I/O and protocol failures, not the server's verdicts
        SocketException or TimeoutException or IOException => true,
        _ => false,
    };

    public static KilnError Translate(Exception e, string database) => e switch
    {
        KilnError k => k,
        PostgresException { SqlState: "23505" } p => new KilnError(StatusCode.AlreadyExists, $"already exists: {p.MessageText}"),
        PostgresException { SqlState: "23503" } p => new KilnError(StatusCode.NotFound, $"a referenced resource does not exist: {p.MessageText}"),
        PostgresException { SqlState: SerializationFailure or DeadlockDetected } p =>
            KilnError.Conflict($"the database kept refusing the change because of concurrent writes; retry: {p.MessageText}"),
        PostgresException { SqlState: "3D000" or "28000" or "28P01" } p => KilnError.Unavailable($"cannot use the PostgreSQL database {database}: {p.MessageText}"),
        _ when IsConnectionLoss(e) => KilnError.Unavailable($"the PostgreSQL database {database} is unavailable: {Describe(e)}"),
        PostgresException p => KilnError.Internal($"database error: {p.SqlState}: {p.MessageText}", p),
        _ => KilnError.Internal($"database error: {e.Message}", e),
    };

    // Npgsql's message says what it tried ("Failed to connect to 127.0.0.1:5432"), the innermost why.
    private static string Describe(Exception e)
    {
        var innermost = e;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }
        return innermost == e ? e.Message : $"{e.Message}: {innermost.Message}";
    }
}
