using System.Net;
using System.Text.Json;
using Kiln.Core.Replicas;

namespace Kiln.Runtime;

/// <summary>
/// Reads a replica's <c>GET /health</c> answer, the same for every runtime: 200 serves; 503 with
/// <c>{"status":"error","error":"..."}</c> failed to load its model; 503 with
/// <c>{"status":"downloading","downloadedBytes":N,"totalBytes":M}</c> is fetching it; any other answer is loading.
/// </summary>
public static class HealthAnswer
{
    /// <summary>The verdict of an answer with <paramref name="status"/> and <paramref name="body"/>.</summary>
    public static ReplicaProbe Read(HttpStatusCode status, string body)
    {
        if (status == HttpStatusCode.OK)
        {
            return new ReplicaProbe(ReplicaHealth.Ready);
        }
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String)
            {
                switch (s.GetString())
                {
                    case "error":
                        return new ReplicaProbe(ReplicaHealth.Failed, Text(root, "error") ?? "the model failed to load");
                    case "downloading":
                        return new ReplicaProbe(ReplicaHealth.Downloading,
                            Download: new DownloadProgress(Number(root, "downloadedBytes") ?? 0, Number(root, "totalBytes")));
                }
            }
        }
        catch (JsonException)
        {
        }
        return new ReplicaProbe(ReplicaHealth.Loading);
    }

    private static string? Text(JsonElement o, string name) =>
        o.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    private static long? Number(JsonElement o, string name) =>
        o.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n) && n >= 0 ? n : null;
}
