using System.Diagnostics;
using Npgsql;

namespace Kiln.Tests.Shared;

/// <summary>
/// The PostgreSQL server tests use: the one <c>KILN_TEST_POSTGRES</c> names (a connection string
/// whose user may create databases), else a throwaway cluster started once per test run by
/// <c>scripts/postgres-up.sh</c> and stopped when the run ends. Each caller gets a fresh database
/// of its own, so tests are independent and may run in parallel. Tests that need it use
/// <see cref="PostgresFactAttribute"/> and skip with a clear message when PostgreSQL is not installed.
/// </summary>
public static class PostgresServer
{
    public const string EnvironmentVariable = "KILN_TEST_POSTGRES";

    private static readonly Lazy<string> Server = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static string? _clusterDir;

    /// <summary>Why PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? SkipReason { get; } = FindSkipReason();

    /// <summary>Creates an empty database <c>kiln_&lt;random&gt;</c> and returns its connection string.</summary>
    public static string CreateDatabase()
    {
        var name = $"kiln_{Guid.NewGuid():N}";
        using (var connection = new NpgsqlConnection(Server.Value))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(Server.Value) { Database = name, Pooling = true }.ToString();
    }

    /// <summary>Drops a database <see cref="CreateDatabase"/> made, disconnecting whoever still uses it.</summary>
    public static void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        try
        {
            using var connection = new NpgsqlConnection(Server.Value);
            connection.Open();
            using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            command.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
            // The cluster is thrown away at the end of the run anyway.
        }
    }

    /// <summary>The repository's scripts folder.</summary>
    public static string ScriptsDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Kiln.sln")))
                {
                    return Path.Combine(dir.FullName, "scripts");
                }
            }
            throw new InvalidOperationException("cannot find the repository root (Kiln.sln) above " + AppContext.BaseDirectory);
        }
    }

    private static string? FindSkipReason()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EnvironmentVariable)))
        {
            return null;
        }
        var installed = Directory.Exists("/usr/lib/postgresql")
            && Directory.EnumerateDirectories("/usr/lib/postgresql").Any(v => File.Exists(Path.Combine(v, "bin", "initdb")));
        return installed
            ? null
            : $"PostgreSQL not found: install the postgresql package (initdb under /usr/lib/postgresql/*/bin) or set {EnvironmentVariable} to a connection string";
    }

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given)
        {
            return given;
        }
        var dir = Path.Combine(Path.GetTempPath(), $"kiln-test-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        var output = Check(RunScript("postgres-up.sh", dir));
        _clusterDir = dir;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunScript("postgres-down.sh", dir);
        return output.Trim().Split('\n')[^1];
    }

    /// <summary>Stops the throwaway cluster (not one <c>KILN_TEST_POSTGRES</c> names) as a crash would, runs <paramref name="whileDown"/>, and starts it again.</summary>
    public static async Task OutageAsync(Func<Task> whileDown)
    {
        _ = Server.Value;
        var dir = _clusterDir ?? throw new InvalidOperationException($"cannot stop a server {EnvironmentVariable} names");
        Check(RunScript("postgres-down.sh", "--keep", dir));
        try
        {
            await whileDown();
        }
        finally
        {
            Check(RunScript("postgres-up.sh", dir));
        }
    }

    private static string Check((int Code, string Output) run) =>
        run.Code == 0 ? run.Output : throw new InvalidOperationException($"a PostgreSQL script failed ({run.Code}): {run.Output}");

    private static (int Code, string Output) RunScript(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(ScriptsDirectory, script));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, p.ExitCode == 0 ? stdout : stdout + stderr.Result);
    }
}

/// <summary>A fact that needs PostgreSQL; skipped with a clear message when it is not installed.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <param name="stopsServer">The test stops and starts the server (<see cref="PostgresServer.OutageAsync"/>), which it may do only to the run's own cluster.</param>
    public PostgresFactAttribute(bool stopsServer = false)
    {
        if (PostgresServer.SkipReason is { } reason) Skip = reason;
        else if (stopsServer && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresServer.EnvironmentVariable)))
            Skip = $"stops the PostgreSQL server, which it does only to a throwaway cluster: unset {PostgresServer.EnvironmentVariable} to run it";
    }
}
