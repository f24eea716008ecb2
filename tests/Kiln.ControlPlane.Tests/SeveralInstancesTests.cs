using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// Two <c>kiln server</c> processes over one store: both serve the API and the gateway, one runs the
/// controllers under the leader lease, and the other takes over when the leader is killed.
/// </summary>
public class SeveralInstancesTests
{
    private const string Deployments = "/v1/accounts/default/deployments";
    private static readonly TimeSpan TakeoverLimit = TimeSpan.FromSeconds(10);

    [SharedTheory]
    [MemberData(nameof(Stores))]
    public async Task One_leads_the_other_takes_over_within_ten_seconds_of_a_kill_and_nothing_is_lost_doubled_or_miscounted(string storeName)
    {
        var store = StoreSelection.Named(storeName);
        using var a = await KilnServer.StartAsync(store.ServerArgs);
        using var b = await KilnServer.StartBesideAsync(a, store.ServerArgs);
        using var apiA = new Api(a.BaseUri, a.AdminKey);
        using var apiB = new Api(b.BaseUri, a.AdminKey);
        using var inferA = new Inference(a.BaseUri, a.AdminKey);
        using var inferB = new Inference(b.BaseUri, a.AdminKey);

        // A started first on a free lease and leads at once; B serves but follows.
        var serverA = await apiA.GetAsync("/v1/server");
        Assert.True(serverA.Status == HttpStatusCode.OK, serverA.ToString());
        var instanceA = serverA.Str("instance");
        Assert.True(serverA.Body.GetProperty("leader").GetBoolean(), serverA.ToString());
        var serverB = await apiB.GetAsync("/v1/server");
        Assert.False(serverB.Body.GetProperty("leader").GetBoolean(), serverB.ToString());
        Assert.NotEqual(instanceA, serverB.Str("instance"));
        Assert.Equal(instanceA, serverB.Body.GetProperty("lease").GetProperty("holder").GetString());
        Assert.Contains($"kiln_leader{{instance=\"{instanceA}\"}} 1", await MetricsAsync(a));
        Assert.Contains($"kiln_leader{{instance=\"{serverB.Str("instance")}\"}} 0", await MetricsAsync(b));

        // Everything is asked of B: the import, a deployment READY through A's reconciler, and two
        // deployments the autoscaler (on A) puts to sleep.
        Assert.Equal("READY", (await Steps.ImportAsync(apiB, "default", "stories", TestModels.Stories260K())).State());
        await CreateAsync(apiB, "web", new { baseModel = "accounts/default/models/stories" });
        await CreateAsync(apiB, "cold", Sleepy);
        await CreateAsync(apiB, "cold2", Sleepy);
        var web = await Steps.WaitForAsync(apiB, $"{Deployments}/web", r => r.State() == "READY" && r.ReadyReplicas().Count == 1, "web READY");
        var webPid = Assert.Single(web.ReadyReplicas()).Pid;
        foreach (var id in new[] { "cold", "cold2" })
        {
            await Steps.WaitForAsync(apiB, $"{Deployments}/{id}", r => r.Int("desiredReplicaCount") == 0 && r.Body.GetProperty("replicas").GetArrayLength() == 0, $"{id} at zero");
            // Awake from now on: nothing puts it back to sleep during the test.
            var kept = await apiB.PatchAsync($"{Deployments}/{id}", new { autoscalingPolicy = new { scaleToZeroWindow = "3600s" } });
            Assert.True(kept.Status == HttpStatusCode.OK, kept.ToString());
        }

        // Completions through both instances.
        var sent = 0;
        for (var i = 0; i < 3; i++)
        {
            await CompleteAsync(inferA, "web");
            await CompleteAsync(inferB, "web");
            sent += 2;
        }

        // A cold start asked of the follower: the wake travels through the store to A's autoscaler.
        await CompleteAsync(inferB, "cold");
        sent++;
        var cold = await apiB.GetAsync($"{Deployments}/cold");
        Assert.Contains(Events(cold), e => e.Type == "Autoscaled" && e.Message.Contains("wake 0 -> 1") && e.Message.Contains("another server instance"));

        // Usage from both instances adds up once.
        await Wait.UntilAsync(async () => (await UsageAsync(apiB)) == sent, Steps.Timeout, $"usage to count {sent} requests");

        // kill -9 of the leader, with a request held for a sleeping deployment on the survivor.
        var replicasBefore = ReplicaProcesses(a, b);
        Assert.Equal(2, replicasBefore.Count);
        a.Crash();
        var clock = Stopwatch.StartNew();
        var held = CompleteAsync(inferB, "cold2");
        await Wait.UntilAsync(async () => (await apiB.GetAsync("/v1/server")).Body.GetProperty("leader").GetBoolean(), TakeoverLimit + TimeSpan.FromSeconds(5), "B to lead");
        var takeover = clock.Elapsed;
        Assert.True(takeover < TakeoverLimit, $"B took {takeover.TotalSeconds:0.0}s to lead");
        Assert.Contains("leads (epoch 2)", b.Output);
        await held;
        sent++;

        // Nothing lost, nothing doubled: web kept its adopted replica, each cold deployment woke once,
        // and every replica process has exactly one record.
        web = await Steps.WaitForAsync(apiB, $"{Deployments}/web", r => r.HasEvent("ReplicaAdopted") && r.State() == "READY", "web adopted by B");
        Assert.Equal(webPid, Assert.Single(web.ReadyReplicas()).Pid);
        Assert.Single(Events(web), e => e.Type == "ReplicaStarted");
        foreach (var id in new[] { "cold", "cold2" })
        {
            var d = await Steps.WaitForAsync(apiB, $"{Deployments}/{id}", r => r.State() == "READY" && r.ReadyReplicas().Count == 1, $"{id} READY");
            Assert.Equal(1, d.Int("desiredReplicaCount"));
            var events = Events(d);
            var wake = Assert.Single(events, e => e.Type == "Autoscaled" && e.Message.Contains("wake 0 -> 1"));
            Assert.Single(events.Skip(events.IndexOf(wake)), e => e.Type == "ReplicaStarted");
        }
        var all = (await apiB.GetAsync(Deployments)).Body.GetProperty("deployments").EnumerateArray().ToList();
        Assert.Equal(3, all.Count);
        var recorded = new List<int>();
        foreach (var id in new[] { "web", "cold", "cold2" })
        {
            recorded.AddRange((await apiB.GetAsync($"{Deployments}/{id}")).ReadyReplicas().Select(r => r.Pid));
        }
        Assert.Equal(recorded.Order(), ReplicaProcesses(a, b).Order());

        // The survivor serves every deployment, and usage still counts each request once (the
        // requests A served were written before it was killed).
        foreach (var id in new[] { "web", "cold", "cold2" })
        {
            await CompleteAsync(inferB, id);
            sent++;
        }
        await Wait.UntilAsync(async () => (await UsageAsync(apiB)) == sent, Steps.Timeout, $"usage to count {sent} requests");
        await Task.Delay(1500); // one more flush: nothing counted twice arrives late
        Assert.Equal(sent, await UsageAsync(apiB));
    }

    public static TheoryData<string> Stores() => StoreSelection.Names();

    private static readonly object Sleepy = new
    {
        baseModel = "accounts/default/models/stories",
        minReplicaCount = 0,
        autoscalingPolicy = new { scaleToZeroWindow = "1s" },
    };

    private static async Task CreateAsync(Api api, string id, object body)
    {
        var created = await api.PostAsync($"{Deployments}?deploymentId={id}", body);
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
    }

    private static async Task CompleteAsync(Inference inference, string deployment)
    {
        var (status, body, _) = await inference.PostAsync("/inference/v1/completions",
            new { model = $"accounts/default/deployments/{deployment}", prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        Assert.True(status == HttpStatusCode.OK, $"{deployment}: {(int)status} {body}");
    }

    private static async Task<long> UsageAsync(Api api)
    {
        var usage = await api.GetAsync("/v1/accounts/default/usage");
        Assert.True(usage.Status == HttpStatusCode.OK, usage.ToString());
        return usage.Body.GetProperty("requests").GetInt64();
    }

    private static async Task<string> MetricsAsync(KilnServer server)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        return await http.GetStringAsync(new Uri(server.BaseUri, "metrics"));
    }

    private static List<(string Type, string Message)> Events(Api.Reply deployment) =>
        [.. deployment.Body.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("message").GetString()!))];

    /// <summary>Live replica processes working on the shared data directory (neither server).</summary>
    private static List<int> ReplicaProcesses(KilnServer a, KilnServer b) =>
        [.. Processes.WithArgumentContaining(a.DataDir).Where(p => p != a.Pid && p != b.Pid && Processes.IsAlive(p))];
}
