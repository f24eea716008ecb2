using System.Net;

namespace Kiln.ControlPlane.Tests.Accelerators;

/// <summary>
/// A real server on a machine whose <c>nvidia-smi</c> (a script on its PATH) reports H100s: replicas
/// get disjoint GPUs in their environment, what does not fit is refused or waits with its reason,
/// a restart with fewer GPUs adopts the replicas without handing out their devices again, and
/// <c>kilnctl</c> shows the inventory and who holds what. The replicas run Kiln's CPU engine.
/// </summary>
public sealed class AcceleratorEndToEndTests : IDisposable
{
    private const string Deployments = "/v1/accounts/default/deployments";
    private readonly string _bin = Path.Combine(Path.GetTempPath(), "kiln-fake-gpus", Guid.NewGuid().ToString("N")[..12]);

    public AcceleratorEndToEndTests()
    {
        Directory.CreateDirectory(_bin);
        // Prints as many H100s as the file "count" says, in nvidia-smi's CSV; any other query is an error.
        File.WriteAllText(Path.Combine(_bin, "nvidia-smi"), """
            #!/bin/sh
            [ "$1 $2" = "--query-gpu=index,name,memory.total,uuid --format=csv,noheader" ] || { echo "unexpected: $*" >&2; exit 2; }
            n=$(cat "$(dirname "$0")/count"); i=0
            while [ "$i" -lt "$n" ]; do echo "$i, NVIDIA H100 80GB HBM3, 81559 MiB, GPU-00000000-0000-4000-8000-00000000000$i"; i=$((i + 1)); done
            """.Replace("\r", ""));
        File.SetUnixFileMode(Path.Combine(_bin, "nvidia-smi"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Gpus(4);
    }

    public void Dispose()
    {
        try { Directory.Delete(_bin, recursive: true); } catch (IOException) { }
    }

    private void Gpus(int count) => File.WriteAllText(Path.Combine(_bin, "count"), count.ToString());

    private static string Gpu(int i) => $"GPU-00000000-0000-4000-8000-00000000000{i}";

    [SharedFact]
    public async Task Replicas_hold_disjoint_gpus_through_a_restart_with_fewer_and_what_does_not_fit_is_refused_or_waits()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        using var server = await KilnServer.StartAsync(new Dictionary<string, string> { ["PATH"] = $"{_bin}:{path}" }, "--cpu-slots", "2");
        using var api = new Api(server.BaseUri, server.AdminKey);
        var ctl = new Kilnctl(server.BaseUri, server.AdminKey, server.DataDir);
        await Steps.ImportAsync(api, "default", "stories", TestModels.Stories260K());
        // H100s need the enterprise tier.
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsync("/v1/accounts/default", new { tier = "enterprise" })).Status);

        // Discovered: 4 H100s beside the 2 CPU slots asked for; a deployment naming no type gets H100s.
        var inventory = await api.GetAsync("/v1/accelerators");
        Assert.True(inventory.Status == HttpStatusCode.OK, inventory.ToString());
        Assert.Equal(("nvidia-smi, --cpu-slots", "NVIDIA_H100_80GB"), (inventory.Str("source"), inventory.Str("defaultAcceleratorType")));
        Assert.Equal([("NVIDIA_H100_80GB", 4, 4), ("CPU", 2, 2)], Pools(inventory));

        // Eight H100s exist on no node: refused at create, by the API and by kilnctl, naming what exists.
        const string available = "available: local: 4 x NVIDIA_H100_80GB, 2 x CPU";
        var eight = await api.PostAsync($"{Deployments}?deploymentId=huge", new { baseModel = "stories", acceleratorType = "NVIDIA_H100_80GB", acceleratorCount = 8 });
        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (eight.Status, eight.Code));
        Assert.Equal($"acceleratorCount: no node holds 8 x NVIDIA_H100_80GB (at most 4 on one node); {available}", eight.Message);
        var refused = await ctl.RunAsync("create", "deployment", "stories", "--deployment-id", "huge", "--accelerator-type", "NVIDIA_A100_80GB");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"no node holds NVIDIA_A100_80GB; {available}", refused.Stderr);

        // Two replicas of world size 2: each sees exactly its own two GPUs.
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"{Deployments}?deploymentId=pair", new { baseModel = "stories", acceleratorCount = 2, minReplicaCount = 2 })).Status);
        var pair = await Steps.WaitForAsync(api, $"{Deployments}/pair", r => r.State() == "READY" && r.ReadyReplicas().Count == 2, "two ready replicas");
        Assert.Equal("NVIDIA_H100_80GB", pair.Str("acceleratorType"));
        var held = Replicas(pair);
        Assert.All(held, r => Assert.Equal(2, r.Devices.Count));
        Assert.Equal(Enumerable.Range(0, 4).Select(Gpu), held.SelectMany(r => r.Devices).Order());
        Assert.All(held, r => Assert.Equal(string.Join(",", r.Devices), Processes.Environment(r.Pid)["CUDA_VISIBLE_DEVICES"]));

        // A third deployment waits for a free GPU, saying so; a wider one created before the restart holds none at zero replicas.
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"{Deployments}?deploymentId=third", new { baseModel = "stories", minReplicaCount = 1 })).Status);
        var third = await WaitPendingAsync(api, "third", "insufficient accelerators: needs 1 NVIDIA_H100_80GB(s) per replica, 0 of 4 free");
        Assert.Equal("PENDING", Assert.Single(Replicas(third)).Phase);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"{Deployments}?deploymentId=wide", new { baseModel = "stories", acceleratorCount = 4 })).Status);

        var listed = await ctl.OkAsync("list", "accelerators");
        Assert.Matches(@"local\s+NVIDIA_H100_80GB\s+4\s+0\s+79.6 GiB\s+default/pair/r-", listed);
        Assert.Matches($@"local\s+NVIDIA_H100_80GB\s+{Gpu(3)}\s+3\s+NVIDIA H100 80GB HBM3\s+default/pair/r-", listed);
        Assert.Matches(@"local\s+CPU\s+2\s+2", listed);
        Assert.Contains($"devices {string.Join(",", held[0].Devices)}", await ctl.OkAsync("get", "deployment", "pair"));

        // Restarted on a machine that now reports two GPUs: both replicas are adopted with the devices
        // their processes hold, nothing is handed out twice, and what no longer fits says why.
        server.Crash();
        Gpus(2);
        await server.RestartAsync();
        var adopted = await Steps.WaitForAsync(api, $"{Deployments}/pair", r => r.HasEvent("ReplicaAdopted") && r.ReadyReplicas().Count == 2, "the replicas adopted");
        Assert.Equal(held.Select(r => (r.Pid, string.Join(",", r.Devices))).Order(), Replicas(adopted).Select(r => (r.Pid, string.Join(",", r.Devices))).Order());
        Assert.Equal([("NVIDIA_H100_80GB", 2, 0), ("CPU", 2, 2)], Pools(await api.GetAsync("/v1/accelerators")));
        await WaitPendingAsync(api, "third", "insufficient accelerators: needs 1 NVIDIA_H100_80GB(s) per replica, 0 of 2 free");
        await ctl.OkAsync("scale", "deployment", "wide", "--replica-count", "1");
        await WaitPendingAsync(api, "wide", "insufficient accelerators: needs 4 NVIDIA_H100_80GB(s) per replica, and the node holds 2");
        var widen = await api.PatchAsync($"{Deployments}/third", new { acceleratorCount = 4 });
        Assert.Equal(HttpStatusCode.BadRequest, widen.Status);
        Assert.Contains("no node holds 4 x NVIDIA_H100_80GB (at most 2 on one node); available: local: 2 x NVIDIA_H100_80GB, 2 x CPU", widen.Message);

        // The pair goes: the third gets one of the two GPUs that still exist.
        await api.DeleteAsync($"{Deployments}/pair");
        var served = await Steps.WaitForAsync(api, $"{Deployments}/third", r => r.State() == "READY" && r.ReadyReplicas().Count == 1, "the third served");
        var one = Assert.Single(Replicas(served));
        Assert.Contains(Assert.Single(one.Devices), new[] { Gpu(0), Gpu(1) });
        Assert.Equal(one.Devices[0], Processes.Environment(one.Pid)["CUDA_VISIBLE_DEVICES"]);

        // Moved to CPU slots: a new replica that sees no GPU replaces it, billed at the CPU price from then on.
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsync($"{Deployments}/third", new { acceleratorType = "CPU" })).Status);
        var cpu = await Steps.WaitForAsync(api, $"{Deployments}/third",
            r => r.State() == "READY" && r.ReadyReplicas() is [var x] && x.Id != one.Id && r.Body.GetProperty("replicas").GetArrayLength() == 1, "a CPU replica");
        var moved = Assert.Single(Replicas(cpu));
        Assert.Empty(moved.Devices);
        Assert.Equal("", Processes.Environment(moved.Pid)["CUDA_VISIBLE_DEVICES"]);
        var since = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        var usage = await api.GetAsync($"/v1/accounts/default/usage?deployment=third&startTime={Uri.EscapeDataString(since.ToString("O"))}");
        var seconds = usage.Body.GetProperty("acceleratorSeconds").GetDouble();
        Assert.InRange(seconds, 0.9, 5.0);
        var expected = (decimal)seconds * 0.05m / 3600m;
        Assert.InRange(usage.Body.GetProperty("cost").GetDecimal(), expected - 0.000002m, expected + 0.000002m);
        Assert.Equal([("NVIDIA_H100_80GB", 2, 2), ("CPU", 2, 1)], Pools(await api.GetAsync("/v1/accelerators")));
    }

    private static async Task<Api.Reply> WaitPendingAsync(Api api, string deployment, string reason)
    {
        var waiting = await Steps.WaitForAsync(api, $"{Deployments}/{deployment}",
            r => r.Body.GetProperty("status").GetProperty("message").GetString()!.StartsWith(reason, StringComparison.Ordinal), $"{deployment} waiting: {reason}");
        Assert.Equal("RESOURCE_EXHAUSTED", waiting.Body.GetProperty("status").GetProperty("code").GetString());
        return waiting;
    }

    private static List<(string Type, int Count, int Free)> Pools(Api.Reply inventory) =>
        [.. Assert.Single(inventory.Body.GetProperty("nodes").EnumerateArray()).GetProperty("accelerators").EnumerateArray()
            .Select(p => (p.GetProperty("acceleratorType").GetString()!, p.GetProperty("count").GetInt32(), p.GetProperty("free").GetInt32()))];

    private static List<(string Id, string Phase, int Pid, IReadOnlyList<string> Devices)> Replicas(Api.Reply deployment) =>
        [.. deployment.Body.GetProperty("replicas").EnumerateArray().Select(r => (
            r.GetProperty("replicaId").GetString()!,
            r.GetProperty("phase").GetString()!,
            r.TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0,
            (IReadOnlyList<string>)[.. r.GetProperty("devices").EnumerateArray().Select(d => d.GetString()!)]))];
}
