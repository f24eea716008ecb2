using Kiln.Core.Errors;
using Kiln.Store.Sql;

namespace Kiln.Store.Sqlite;

/// <summary>
/// Brings a database up to the newest schema: each pending step runs with its
/// <c>schema_version</c> row in one IMMEDIATE transaction, so a crash leaves either the old or the
/// new version, and two processes opening the same file apply each step once.
/// </summary>
internal static class Migrator
{
    public static int LatestVersion => SchemaMigrations.Steps[^1].Version;

    public static void Migrate(SqlSession db, long nowMs)
    {
        db.Execute("""
            CREATE TABLE IF NOT EXISTS schema_version (
                version      INTEGER NOT NULL PRIMARY KEY,
                description  TEXT NOT NULL,
                applied_time INTEGER NOT NULL
            )
            """);
        var current = CurrentVersion(db);
        if (current > LatestVersion)
        {
            throw KilnError.FailedPrecondition(
                $"the database schema is version {current}, newer than this Kiln understands ({LatestVersion}); upgrade Kiln");
        }
        foreach (var step in SchemaMigrations.Steps.Where(s => s.Version > current))
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
