namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    // Moved by triggers (schema step 20), so no write path can forget it.

    /// <inheritdoc />
    public Task<long> GetRoutingGenerationAsync(CancellationToken ct = default) =>
        Read(ct, db => db.Scalar("SELECT value FROM change_counters WHERE name = 'routing'"));
}
