namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    // Every statement shape a batch uses, by (statement, rows): built once (racing builders make equal copies).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Statement, int Rows), string> BatchSql = new();

    /// <summary>
    /// Runs <paramref name="statement"/> over <paramref name="rows"/> in as few statements as the
    /// dialect's <see cref="SqlDialect.RowsPerInsert"/> allows: full statements of that many rows,
    /// then one per set bit of the rest, so only a handful of statement shapes are ever prepared.
    /// <paramref name="statement"/> holds <c>{0}</c> where the rows' <c>VALUES</c> list goes;
    /// parameters are named <c>p0</c>, <c>p1</c>, ... in row order. Returns the rows changed.
    /// </summary>
    private int ExecuteBatch<T>(SqlSession db, string statement, IReadOnlyList<T> rows, int columns, Func<T, object?[]> values)
    {
        var most = Dialect.RowsPerInsert;
        var (done, changed) = (0, 0);
        for (; rows.Count - done >= most; done += most)
        {
            changed += ExecuteRows(db, statement, rows, done, most, columns, values);
        }
        for (var n = most / 2; n > 0; n /= 2)
        {
            if (rows.Count - done >= n)
            {
                changed += ExecuteRows(db, statement, rows, done, n, columns, values);
                done += n;
            }
        }
        return changed;
    }

    private static int ExecuteRows<T>(SqlSession db, string statement, IReadOnlyList<T> rows, int first, int count, int columns, Func<T, object?[]> values)
    {
        var args = new (string, object?)[count * columns];
        for (var i = 0; i < count; i++)
        {
            var row = values(rows[first + i]);
            for (var j = 0; j < columns; j++)
            {
                args[i * columns + j] = (ParameterName(i * columns + j), row[j]);
            }
        }
        var sql = BatchSql.GetOrAdd((statement, count), key => string.Format(System.Globalization.CultureInfo.InvariantCulture, key.Statement,
            "VALUES " + string.Join(", ", Enumerable.Range(0, key.Rows).Select(i =>
                "(" + string.Join(", ", Enumerable.Range(i * columns, columns).Select(at => "@" + ParameterName(at))) + ")"))));
        return db.Execute(sql, args);
    }

    private static readonly string[] ParameterNames = [.. Enumerable.Range(0, 4096).Select(i => $"p{i}")];

    private static string ParameterName(int i) => i < ParameterNames.Length ? ParameterNames[i] : $"p{i}";
}
