using Kiln.Tests.Shared;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// The store that the server instances of a test share, as the arguments that select it: the
/// embedded SQLite file in their shared data directory, or a database named with <c>--store</c>.
/// </summary>
public sealed record StoreSelection(string Name, string[] ServerArgs)
{
    /// <summary>The embedded default: one SQLite file in WAL mode, shared by processes on one machine.</summary>
    public static StoreSelection Sqlite { get; } = new("sqlite", []);

    /// <summary>
    /// Every store a test can run on here: SQLite, and PostgreSQL (<c>--store</c> with a fresh
    /// test database) where PostgreSQL can be started.
    /// </summary>
    public static TheoryData<string> Names() =>
        PostgresServer.SkipReason is null ? new(Sqlite.Name, "postgresql") : new(Sqlite.Name);

    /// <summary>The selection called <paramref name="name"/> (a PostgreSQL one gets a database of its own).</summary>
    public static StoreSelection Named(string name) => name switch
    {
        "sqlite" => Sqlite,
        "postgresql" => new("postgresql", ["--store", PostgresServer.CreateDatabase()]),
        _ => throw new ArgumentException($"unknown store {name}", nameof(name)),
    };

    public override string ToString() => Name;
}
