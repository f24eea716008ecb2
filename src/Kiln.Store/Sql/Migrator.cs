using Kiln.Core.Errors;

namespace Kiln.Store.Sql;

/// <summary>
/// Brings a database up to the newest schema: each pending step runs with its
/// <c>schema_version</c> row in one write transaction, so a crash leaves either the old or the
/// new version, and two processes opening the same database apply each step once (SQLite's write
/// lock serialises them; PostgreSQL's store holds an advisory lock around the whole migration).
/// </summary>
internal static class Migrator
{
    /// <param name="db">An open session with no transaction.</param>
    /// <param name="steps">The database's steps, in version order.</param>
    /// <param name="historyTable">Creates the <c>schema_version</c> table if it is missing.</param>
    /// <param name="nowMs">The time recorded for each applied step.</param>
    public static void Migrate(SqlSession db, IReadOnlyList<SchemaStep> steps, string historyTable, long nowMs)
    {
        db.ExecuteScript(historyTable);
        var latest = steps[^1].Version;
        var current = CurrentVersion(db);
        if (current > latest)
        {
            throw KilnError.FailedPrecondition(
                $"the database schema is version {current}, newer than this Kiln understands ({latest}); upgrade Kiln");
        }
        foreach (var step in steps.Where(s => s.Version > current))
        {
            using var tx = db.Begin();
            // Another process may have applied it while this one waited for the lock.
            if (CurrentVersion(db) >= step.Version)
            {
                continue;
            }
            db.ExecuteScript(step.Sql);
            db.Execute("INSERT INTO schema_version (version, description, applied_time) VALUES (@version, @description, @time)",
                ("version", step.Version), ("description", step.Description), ("time", nowMs));
            tx.Commit();
        }
    }

    public static long CurrentVersion(SqlSession db) => db.Scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version");
}
