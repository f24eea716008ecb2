using System.Data.Common;

namespace Kiln.Store.Sql;

/// <summary>The current row of a query; valid only inside the mapping callback.</summary>
internal readonly struct SqlRow
{
    private readonly DbDataReader _reader;

    internal SqlRow(DbDataReader reader) => _reader = reader;

    public bool IsNull(int column) => _reader.IsDBNull(column);

    public long GetInt64(int column) => _reader.GetInt64(column);

    public int GetInt32(int column) => checked((int)GetInt64(column));

    // SQLite keeps booleans as 0/1 integers; PostgreSQL has a boolean type.
    public bool GetBool(int column) => _reader.GetFieldType(column) == typeof(bool) ? _reader.GetBoolean(column) : GetInt64(column) != 0;

    public double GetDouble(int column) => _reader.GetDouble(column);

    public string GetString(int column) => GetNullableString(column) ?? throw new InvalidOperationException($"column {column} is NULL");

    public string? GetNullableString(int column) => IsNull(column) ? null : _reader.GetString(column);

    public long? GetNullableInt64(int column) => IsNull(column) ? null : GetInt64(column);

    public int? GetNullableInt32(int column) => IsNull(column) ? null : GetInt32(column);
}
