using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// The store stops taking writes while a server runs (another process holds SQLite's write lock):
/// the leader steps down before its lease could lapse, the gateway keeps serving, nothing crashes,
/// and everything resumes, with usage counted, once the store is back.
/// </summary>
public class StoreOutageTests
{
    [SharedFact]
    public async Task The_leader_steps_down_while_the_store_refuses_writes_the_gateway_keeps_serving_and_all_resumes()
    {
        using var server = await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        using var inference = new Inference(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        Assert.True((await api.PostAsync("/v1/accounts/default/deployments?deploymentId=web", new { baseModel = "accounts/default/models/stories" })).Status == HttpStatusCode.OK);
        await Steps.WaitForAsync(api, "/v1/accounts/default/deployments/web", r => r.State() == "READY", "READY");
        Assert.True(await LeadsAsync(api));
        var sent = 0;
        await CompleteAsync(inference);
        sent++;

        var outage = Stopwatch.StartNew();
        using (var writer = new SqliteConnection($"Data Source={Path.Combine(server.DataDir, "kiln.db")}"))
        {
            writer.Open();
            using var lockTx = writer.BeginTransaction(deferred: false);
            // No renewal can land: the leader stops leading before its 6 s lease could lapse.
            await Wait.UntilAsync(async () => !await LeadsAsync(api), TimeSpan.FromSeconds(6), "the leader to step down");
            Assert.True(outage.Elapsed < TimeSpan.FromSeconds(6), $"stepped down after {outage.Elapsed.TotalSeconds:0.0}s");
            await Wait.UntilAsync(() => server.Output.Contains("no longer leads"), TimeSpan.FromSeconds(5), "the step-down to be logged");

            // The gateway serves from its routing table meanwhile.
            for (var i = 0; i < 3; i++)
            {
                await CompleteAsync(inference);
                sent++;
            }
            // Past the lease's TTL: it lapses in the store, so leading again starts a new epoch.
            var pastTtl = TimeSpan.FromSeconds(7) - outage.Elapsed;
            await Task.Delay(pastTtl > TimeSpan.Zero ? pastTtl : TimeSpan.Zero);
            Assert.False(await LeadsAsync(api));
            lockTx.Rollback();
        }

        // The store is back: the server leads again in a new epoch and its usage reaches the store.
        await Wait.UntilAsync(() => LeadsAsync(api), TimeSpan.FromSeconds(10), "the server to lead again");
        Assert.Equal(2, (await api.GetAsync("/v1/server")).Body.GetProperty("lease").GetProperty("epoch").GetInt64());
        await Wait.UntilAsync(async () => (await api.GetAsync("/v1/accounts/default/usage")).Body.GetProperty("requests").GetInt64() == sent,
            Steps.Timeout, $"usage to count {sent} requests");
        await CompleteAsync(inference);
        Assert.False(server.Output.Contains("Unhandled exception"), server.Output);
    }

    private static async Task<bool> LeadsAsync(Api api)
    {
        var reply = await api.GetAsync("/v1/server");
        Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
        return reply.Body.GetProperty("leader").GetBoolean();
    }

    private static async Task CompleteAsync(Inference inference)
    {
        var (status, body, _) = await inference.PostAsync("/inference/v1/completions",
            new { model = "accounts/default/deployments/web", prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
    }
}
