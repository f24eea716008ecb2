using System.Net;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>Steps several tests share.</summary>
public static class Steps
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static async Task<Api.Reply> ImportAsync(Api api, string account, string modelId, byte[] bytes)
    {
        var created = await api.PostAsync($"/v1/accounts/{account}/models?modelId={modelId}", new { displayName = modelId });
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        Assert.Equal("UPLOADING", created.Str("state"));
        return await api.UploadAsync($"/v1/accounts/{account}/models/{modelId}:upload", bytes);
    }

    public static async Task<Api.Reply> WaitForAsync(Api api, string path, Func<Api.Reply, bool> done, string what)
    {
        Api.Reply? last = null;
        try
        {
            return await Wait.ForAsync(async () =>
            {
                last = await api.GetAsync(path);
                return done(last) ? last : null;
            }, Timeout, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last: {last}");
        }
    }

    public static string State(this Api.Reply r) => r.Str("state");

    public static int Int(this Api.Reply r, string name) => r.Body.GetProperty(name).GetInt32();

    /// <summary>(replicaId, pid, port) of the READY replicas.</summary>
    public static List<(string Id, int Pid, int Port)> ReadyReplicas(this Api.Reply r) =>
        r.Body.GetProperty("replicas").EnumerateArray()
            .Where(x => x.GetProperty("phase").GetString() == "READY")
            .Select(x => (x.GetProperty("replicaId").GetString()!, x.GetProperty("pid").GetInt32(), x.GetProperty("port").GetInt32()))
            .ToList();

    public static bool HasEvent(this Api.Reply r, string type) =>
        r.Body.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("type").GetString() == type);

    /// <summary>GET /v1/models on a replica's own port.</summary>
    public static async Task<string> ReplicaModelsAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"http://127.0.0.1:{port}/v1/models");
    }
}
