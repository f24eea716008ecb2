namespace Kiln.Store.Sql;

/// <summary>
/// What differs in the store's SQL text between databases. The queries are written once in
/// <see cref="SqlKilnStore"/>; a fragment that is not the same everywhere comes from here.
/// </summary>
internal sealed record SqlDialect(string Greatest, string Least)
{
    /// <summary>SQLite: the scalar (two-argument) forms of MAX and MIN.</summary>
    public static readonly SqlDialect Sqlite = new("MAX", "MIN");

    /// <summary>PostgreSQL: MAX and MIN are aggregates only.</summary>
    public static readonly SqlDialect Postgres = new("GREATEST", "LEAST");
}
