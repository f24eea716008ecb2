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
    /// Every store a test can run on here. A PostgreSQL selection (<c>--store &lt;connection
    /// string&gt;</c> of a throwaway test database) joins this list where one can be started.
    /// </summary>
    public static TheoryData<string> Names() => new(Sqlite.Name);

    /// <summary>The selection called <paramref name="name"/>.</summary>
    public static StoreSelection Named(string name) => name switch
    {
        "sqlite" => Sqlite,
        _ => throw new ArgumentException($"unknown store {name}", nameof(name)),
    };

    public override string ToString() => Name;
}
