namespace Kiln.Store.Sql;

/// <summary>An open transaction of a <see cref="SqlSession"/>; rolled back on dispose unless <see cref="Commit"/> was called.</summary>
internal sealed class SqlTransaction : IDisposable
{
    private readonly SqlSession _session;
    private bool _done;

    internal SqlTransaction(SqlSession session) => _session = session;

    public void Commit()
    {
        _done = true;
        _session.Commit();
    }

    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            _session.Rollback();
        }
    }
}
