using System.Net;
using Kiln.Server.Auth;

namespace Kiln.ControlPlane.Tests;

/// <summary>A fact that needs PostgreSQL and the shared models.</summary>
public sealed class PostgresSharedFactAttribute : FactAttribute
{
    public PostgresSharedFactAttribute()
    {
        if (PostgresServer.SkipReason is { } reason) Skip = reason;
        else if (SharedFiles.Root is null) Skip = SharedFiles.MissingMessage;
        else if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresServer.EnvironmentVariable)))
            Skip = $"stops the PostgreSQL server, which it does only to a throwaway cluster: unset {PostgresServer.EnvironmentVariable} to run it";
    }
}

/// <summary><c>kiln server --store</c> on a real PostgreSQL database.</summary>
public sealed class PostgresStoreEndToEndTests
{
    private const string Path = "/v1/accounts/default/deployments/web";

    [PostgresSharedFact]
    public async Task A_server_on_postgres_serves_a_deployment_and_rides_out_a_database_outage()
    {
        var database = PostgresServer.CreateDatabase();
        try
        {
            using var server = await KilnServer.StartAsync("--store", database);
            Assert.False(File.Exists(System.IO.Path.Combine(server.DataDir, "kiln.db")), "the SQLite store must not be used");
            Assert.Contains("store: PostgreSQL 127.0.0.1:", server.Output);
            using var api = new Api(server.BaseUri, server.AdminKey);
            using var inference = new Inference(server.BaseUri, server.AdminKey);
            Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K())).State());

            var created = await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web", new { baseModel = "accounts/default/models/stories" });
            Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
            Assert.Equal("CREATING", created.State());
            var ready = await Steps.WaitForAsync(api, Path, r => r.State() == "READY", "READY");
            Assert.Single(ready.ReadyReplicas());
            var listed = await api.GetAsync("/v1/accounts/default/deployments");
            Assert.Equal("accounts/default/deployments/web", Assert.Single(listed.Body.GetProperty("deployments").EnumerateArray()).GetProperty("name").GetString());
            await AssertCompletesAsync(inference);

            // The database goes away: the API says so (503 UNAVAILABLE), the server stays up and the
            // gateway keeps serving from its routing table.
            await PostgresServer.OutageAsync(async () =>
            {
                // Longer than the API key cache keeps a key, and a few failed controller passes.
                await Task.Delay(ApiKeyCache.Lifetime + TimeSpan.FromSeconds(1));
                var down = await api.GetAsync(Path);
                Assert.True(down.Status == HttpStatusCode.ServiceUnavailable, down.ToString());
                Assert.Equal("UNAVAILABLE", down.Code);
                await AssertCompletesAsync(inference);
            });
            Assert.Contains("unavailable", server.Output);

            // Back: the same deployment, still READY, and the API works again.
            var back = await Steps.WaitForAsync(api, Path, r => r.Status == HttpStatusCode.OK && r.State() == "READY", "the API back after the outage");
            Assert.Equal(ready.ReadyReplicas(), back.ReadyReplicas());

            // A restarted server finds everything in the database.
            await server.StopAsync();
            await server.RestartAsync();
            Assert.Equal("READY", (await Steps.WaitForAsync(api, Path, r => r.State() == "READY", "READY after a restart")).State());
            await AssertCompletesAsync(inference);
        }
        finally
        {
            PostgresServer.DropDatabase(database);
        }
    }

    [PostgresFact]
    public async Task A_bad_or_unreachable_store_is_one_line_and_an_exit_code()
    {
        var malformed = await Assert.ThrowsAsync<InvalidOperationException>(() => KilnServer.StartAsync("--store", "Host=db;Port=notanumber"));
        Assert.Contains("exited with 2", malformed.Message);
        Assert.Contains("kiln server: --store: not a valid PostgreSQL connection string", malformed.Message);

        var port = FreePort.Next();
        var unreachable = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            KilnServer.StartAsync("--store", $"postgres://kiln@127.0.0.1:{port}/kiln?Timeout=5"));
        Assert.Contains("exited with 1", unreachable.Message);
        Assert.Contains($"the PostgreSQL database 127.0.0.1:{port}/kiln is unavailable", unreachable.Message);
        Assert.DoesNotContain("   at ", unreachable.Message); // no stack trace
    }

    private static async Task AssertCompletesAsync(Inference inference)
    {
        var (status, body, _) = await inference.PostAsync("/v1/completions",
            new { model = "accounts/default/models/stories", prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.NotEmpty(body.GetProperty("choices")[0].GetProperty("text").GetString()!);
    }
}
