namespace Kiln.Store.Sqlite;

/// <summary>An open transaction; rolled back on dispose unless <see cref="Commit"/> was called.</summary>
internal sealed class SqliteTransaction : IDisposable
{
    private readonly SqliteDatabase _db;
    private bool _done;

    internal SqliteTransaction(SqliteDatabase db) => _db = db;

    public void Commit()
    {
        _db.Execute("COMMIT");
        _done = true;
    }

    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            _db.TryRollback();
        }
    }
}
