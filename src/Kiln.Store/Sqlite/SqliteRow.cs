using SQLitePCL;

namespace Kiln.Store.Sqlite;

/// <summary>The current row of a query; valid only inside the mapping callback.</summary>
internal readonly struct SqliteRow
{
    private readonly sqlite3_stmt _stmt;

    internal SqliteRow(sqlite3_stmt stmt) => _stmt = stmt;

    public bool IsNull(int column) => raw.sqlite3_column_type(_stmt, column) == raw.SQLITE_NULL;

    public long GetInt64(int column) => raw.sqlite3_column_int64(_stmt, column);

    public int GetInt32(int column) => checked((int)GetInt64(column));

    public bool GetBool(int column) => GetInt64(column) != 0;

    public double GetDouble(int column) => raw.sqlite3_column_double(_stmt, column);

    public string GetString(int column) => GetNullableString(column) ?? throw new InvalidOperationException($"column {column} is NULL");

    public string? GetNullableString(int column) => IsNull(column) ? null : raw.sqlite3_column_text(_stmt, column).utf8_to_string();

    public long? GetNullableInt64(int column) => IsNull(column) ? null : GetInt64(column);

    public int? GetNullableInt32(int column) => IsNull(column) ? null : GetInt32(column);
}
