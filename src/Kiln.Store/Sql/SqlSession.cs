using System.Data.Common;
using System.Globalization;

namespace Kiln.Store.Sql;

/// <summary>
/// One open ADO.NET connection with its prepared commands: parameterised statements, typed rows
/// and transactions, written against <see cref="DbConnection"/> so that the store's SQL does not
/// depend on the provider. Not thread-safe; the owner hands it to one caller at a time.
/// </summary>
/// <remarks>
/// Parameters are named (<c>@name</c> in the SQL, passed as <c>("name", value)</c>) and bound from
/// CLR values: null, string, bool (0/1), int, long, double and byte[]. A command is prepared on first
/// use and kept for the connection's life, so the statements the store repeats are parsed once.
/// </remarks>
/// <param name="connection">The open connection.</param>
/// <param name="begin">Begins a transaction, for writing or not.</param>
/// <param name="parameterPrefix">
/// Prepended to parameter names when they are bound: a provider that looks a name up as written
/// first (Microsoft.Data.Sqlite) otherwise retries it with each prefix, allocating every time.
/// </param>
internal sealed class SqlSession(DbConnection connection, Func<DbConnection, bool, DbTransaction> begin, string parameterPrefix = "") : IDisposable
{
    // Statements are built from a fixed set of fragments; the bound only guards against a caller
    // that ever builds unbounded SQL text.
    private const int MaxCachedCommands = 256;

    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
    private DbTransaction? _transaction;

    /// <summary>The underlying connection.</summary>
    public DbConnection Connection => connection;

    /// <summary>
    /// Begins a transaction; <paramref name="write"/> asks the database to serialise it with other
    /// writes (SQLite's BEGIN IMMEDIATE, PostgreSQL's SERIALIZABLE) so that checks and changes in it are atomic.
    /// </summary>
    public SqlTransaction Begin(bool write = true)
    {
        if (_transaction is not null)
        {
            throw new InvalidOperationException("a transaction is already open on this session");
        }
        _transaction = begin(connection, write);
        return new SqlTransaction(this);
    }

    /// <summary>Runs one statement; returns the number of rows it changed.</summary>
    public int Execute(string sql, params (string Name, object? Value)[] args) => Command(sql, args).ExecuteNonQuery();

    /// <summary>Runs a script of several statements without parameters (migrations); nothing is kept prepared.</summary>
    public void ExecuteScript(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs a query and maps every row.</summary>
    public List<T> Query<T>(string sql, Func<SqlRow, T> map, params (string Name, object? Value)[] args)
    {
        using var reader = Command(sql, args).ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(new SqlRow(reader)));
        }
        return rows;
    }

    /// <summary>The first row mapped, or default when there is none.</summary>
    public T? QuerySingle<T>(string sql, Func<SqlRow, T> map, params (string Name, object? Value)[] args)
    {
        using var reader = Command(sql, args).ExecuteReader();
        return reader.Read() ? map(new SqlRow(reader)) : default;
    }

    /// <summary>The first column of the first row as a long (0 when there is no row or it is NULL).</summary>
    public long Scalar(string sql, params (string Name, object? Value)[] args) =>
        Command(sql, args).ExecuteScalar() is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;

    public void Dispose()
    {
        Rollback();
        DropCommands();
        connection.Dispose();
    }

    internal void Commit()
    {
        var tx = _transaction ?? throw new InvalidOperationException("no transaction is open");
        _transaction = null;
        using (tx)
        {
            tx.Commit();
        }
    }

    internal void Rollback()
    {
        var tx = _transaction;
        if (tx is null)
        {
            return;
        }
        _transaction = null;
        // Disposing an uncommitted ADO.NET transaction rolls it back, and copes with one the
        // database already rolled back itself (after some errors), which Rollback() would not.
        tx.Dispose();
    }

    private DbCommand Command(string sql, (string Name, object? Value)[] args)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            if (_commands.Count >= MaxCachedCommands)
            {
                DropCommands();
            }
            command = connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }
        command.Transaction = _transaction;
        Bind(command, args);
        return command;
    }

    private void Bind(DbCommand command, (string Name, object? Value)[] args)
    {
        var parameters = command.Parameters;
        // A statement is nearly always called with the same names in the same order: reuse them.
        var reuse = parameters.Count == args.Length;
        for (var i = 0; reuse && i < args.Length; i++)
        {
            var bound = parameters[i].ParameterName;
            reuse = bound.StartsWith(parameterPrefix, StringComparison.Ordinal) && bound.AsSpan(parameterPrefix.Length).SequenceEqual(args[i].Name);
        }
        if (!reuse)
        {
            parameters.Clear();
            foreach (var (name, _) in args)
            {
                var p = command.CreateParameter();
                p.ParameterName = parameterPrefix + name;
                parameters.Add(p);
            }
        }
        for (var i = 0; i < args.Length; i++)
        {
            parameters[i].Value = args[i].Value switch
            {
                null => DBNull.Value,
                string or bool or int or long or double or byte[] => args[i].Value,
                var other => throw new ArgumentException($"cannot bind a {other.GetType().Name} to parameter {args[i].Name}"),
            };
        }
    }

    private void DropCommands()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        _commands.Clear();
    }
}
