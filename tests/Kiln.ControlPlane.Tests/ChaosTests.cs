using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Seeded, bounded chaos: the server killed with -9 in the middle of control-plane calls, and a burst
/// far beyond one replica's queue. Each run does the same things in the same order.
/// </summary>
public class ChaosTests
{
    private const string Stories = "accounts/default/models/stories";
    private const string Deployments = "/v1/accounts/default/deployments";

    [SharedFact]
    public async Task Killing_the_server_during_create_update_and_delete_loses_nothing_and_orphans_nothing()
    {
        using var server = await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        var random = new Random(20261204);
        // What the server acknowledged before it was killed is what must hold afterwards.
        var acknowledged = new Dictionary<string, string>(); // id -> "live" | "deleted"
        var wantMin = new Dictionary<string, int>();
        for (var round = 0; round < 6; round++)
        {
            var id = $"c{round}";
            var calls = new List<Func<Task>>
            {
                async () =>
                {
                    var r = await api.PostAsync($"{Deployments}?deploymentId={id}", new { baseModel = Stories, minReplicaCount = 1 });
                    if (r.Status == HttpStatusCode.OK) { acknowledged[id] = "live"; wantMin[id] = 1; }
                },
            };
            if (round > 0)
            {
                var previous = $"c{round - 1}";
                calls.Add(async () =>
                {
                    var r = await api.PatchAsync($"{Deployments}/{previous}", new { minReplicaCount = 0, maxReplicaCount = 2 });
                    if (r.Status == HttpStatusCode.OK) wantMin[previous] = 0;
                });
            }
            if (round > 1)
            {
                var old = $"c{round - 2}";
                calls.Add(async () =>
                {
                    var r = await api.DeleteAsync($"{Deployments}/{old}");
                    if (r.Status == HttpStatusCode.OK) acknowledged[old] = "deleted";
                });
            }
            var running = Task.WhenAll(calls.Select(c => Task.Run(async () =>
            {
                try { await c(); }
                catch (HttpRequestException) { } // the server died under this call: not acknowledged
            })));
            await Task.Delay(random.Next(0, 250));
            server.Crash();
            await running;
            await server.RestartAsync();
        }

        // Everything acknowledged converges; nothing runs that the store does not know of.
        foreach (var (id, state) in acknowledged)
        {
            var goal = state == "deleted" ? "DELETED" : "READY";
            var d = await Steps.WaitForAsync(api, $"{Deployments}/{id}", r => r.State() == goal, $"{id} {goal}");
            if (state == "live") Assert.Equal(wantMin[id], d.Body.GetProperty("minReplicaCount").GetInt32());
        }
        await Wait.ForAsync(async () =>
        {
            var all = await api.GetAsync($"{Deployments}?showDeleted=true&pageSize=100");
            var known = new List<int>();
            foreach (var d in all.Body.GetProperty("deployments").EnumerateArray())
            {
                var one = await api.GetAsync($"{Deployments}/{d.GetProperty("name").GetString()!.Split('/')[^1]}");
                known.AddRange(one.Body.GetProperty("replicas").EnumerateArray()
                    .Where(r => r.TryGetProperty("pid", out var p) && p.ValueKind == JsonValueKind.Number).Select(r => r.GetProperty("pid").GetInt32()));
            }
            var running = server.ReplicaProcesses();
            return running.All(known.Contains) ? "" : null;
        }, Steps.Timeout, "every replica process recorded in the store");
    }

    [SharedFact]
    public async Task A_burst_of_300_requests_at_one_replica_gets_answers_or_429_with_retry_after_and_memory_stays_flat()
    {
        using var server = await KilnServer.StartAsync("--hold-timeout", "30s");
        using var api = new Api(server.BaseUri, server.AdminKey);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        await api.PostAsync($"{Deployments}?deploymentId=burst", new { baseModel = Stories, minReplicaCount = 1, maxReplicaCount = 1 });
        var ready = await Steps.WaitForAsync(api, $"{Deployments}/burst", r => r.State() == "READY", "burst READY");
        var replica = ready.ReadyReplicas().Single();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        async Task<(HttpStatusCode Status, TimeSpan? RetryAfter, string Body)> Send(int i)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseUri, "/v1/completions"))
            {
                Content = new StringContent(JsonSerializer.Serialize(new { model = Stories, prompt = $"Story {i}:", max_tokens = 64, temperature = 0.8 }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminKey);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, await response.Content.ReadAsStringAsync());
        }
        await Task.WhenAll(Enumerable.Range(0, 8).Select(Send)); // warm
        var before = Processes.ResidentBytes(replica.Pid);

        var results = await Task.WhenAll(Enumerable.Range(0, 300).Select(Send));
        Assert.All(results, r =>
        {
            Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable, $"{(int)r.Status} {r.Body}");
            if (r.Status != HttpStatusCode.OK)
            {
                Assert.NotNull(r.RetryAfter);
                Inference.AssertOpenAiError(JsonDocument.Parse(r.Body).RootElement, r.Status == HttpStatusCode.TooManyRequests ? "queue_full" : "DEPLOYMENT_SCALING_UP");
            }
        });
        Assert.Contains(results, r => r.Status == HttpStatusCode.OK);
        Assert.Contains(results, r => r.Status == HttpStatusCode.TooManyRequests);
        var growth = Processes.ResidentBytes(replica.Pid) - before;
        Assert.True(growth < 128L << 20, $"the replica's resident memory grew by {growth >> 20} MiB over the burst");
    }
}
