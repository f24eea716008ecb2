namespace Kiln.Store.Sql;

/// <summary>
/// The store's operations written once over <see cref="SqlSession"/>; a database supplies its
/// connections, transactions and error translation (<see cref="Read{T}"/>, <see cref="Write{T}"/>)
/// and the few SQL fragments that differ (<see cref="SqlDialect"/>).
/// </summary>
/// <remarks>
/// Every operation's body runs inside one transaction that sees a consistent snapshot; a write's
/// body runs as if no other write ran at the same time (the database serialises them), so its
/// checks and changes are atomic. A body may run more than once (a database that detects a
/// conflict retries it), so it does nothing but SQL. Times are unix milliseconds.
/// </remarks>
public abstract partial class SqlKilnStore : IKilnStore
{
    private protected SqlKilnStore(SqlDialect dialect) => Dialect = dialect;

    private protected SqlDialect Dialect { get; }

    /// <summary>Closes the store's connections.</summary>
    public abstract void Dispose();

    /// <summary>Runs <paramref name="body"/> in a read-only transaction.</summary>
    private protected abstract Task<T> Read<T>(CancellationToken ct, Func<SqlSession, T> body);

    /// <summary>Runs <paramref name="body"/> in a write transaction, given the store's clock reading truncated to milliseconds.</summary>
    private protected abstract Task<T> RunWrite<T>(CancellationToken ct, Func<SqlSession, DateTimeOffset, T> body);

    /// <summary>
    /// Runs <paramref name="body"/> in a write transaction (<see cref="RunWrite{T}"/>), first checking
    /// there the caller's <see cref="LeaseFence"/>, if any: a write of a term whose lease moved on is refused.
    /// </summary>
    private protected Task<T> Write<T>(CancellationToken ct, Func<SqlSession, DateTimeOffset, T> body) =>
        // Read here, on the caller's flow: a database may run the body on a thread of its own.
        LeaseFence.Current is { } fence
            ? RunWrite(ct, (db, now) =>
            {
                CheckFence(db, fence);
                return body(db, now);
            })
            : RunWrite(ct, body);

    private static Page<T> ListPage<T>(
        SqlSession db, string scope, PageRequest page, string columns, string table, string where,
        (string, object?)[] args, string key, Func<SqlRow, T> map, Func<T, string> keyOf)
    {
        var size = page.EffectiveSize;
        var after = PageTokens.Decode(scope, page.PageToken);
        var total = (int)db.Scalar($"SELECT COUNT(*) FROM {table} WHERE {where}", args);
        var sql = $"SELECT {columns} FROM {table} WHERE {where}{(after is null ? "" : $" AND {key} > @after")} ORDER BY {key} LIMIT @limit";
        (string, object?)[] queryArgs = after is null ? [.. args, ("limit", size + 1)] : [.. args, ("after", after), ("limit", size + 1)];
        var rows = db.Query(sql, map, queryArgs);
        string? next = null;
        if (rows.Count > size)
        {
            rows.RemoveAt(size);
            next = PageTokens.Encode(scope, keyOf(rows[^1]));
        }
        return new Page<T>(rows, next, total);
    }
}
