namespace Kiln.Store.Sql;

/// <summary>
/// What differs in the store's SQL text between databases. The queries are written once in
/// <see cref="SqlKilnStore"/>; a fragment that is not the same everywhere comes from here.
/// </summary>
/// <param name="Greatest">The scalar maximum of two values.</param>
/// <param name="Least">The scalar minimum of two values.</param>
/// <param name="RowsPerInsert">
/// Rows one INSERT of a batch carries. PostgreSQL: many, since each statement is a round trip.
/// SQLite: one, since a statement costs no round trip and SQLite finds each named parameter by a
/// linear search of the statement's names, so a statement of many rows binds in quadratic time.
/// </param>
internal sealed record SqlDialect(string Greatest, string Least, int RowsPerInsert)
{
    /// <summary>SQLite: the scalar (two-argument) forms of MAX and MIN.</summary>
    public static readonly SqlDialect Sqlite = new("MAX", "MIN", 1);

    /// <summary>PostgreSQL: MAX and MIN are aggregates only.</summary>
    public static readonly SqlDialect Postgres = new("GREATEST", "LEAST", 256);
}
