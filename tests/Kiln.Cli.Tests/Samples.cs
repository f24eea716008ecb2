using System.Text.Json.Nodes;

namespace Kiln.Cli.Tests;

/// <summary>API resources as the control plane answers them.</summary>
internal static class Samples
{
    public static JsonObject Deployment(string state = "READY", int ready = 1, int desired = 1, int initializing = 0,
        string id = "chat", string? statusCode = null, string? statusMessage = null) => new()
        {
            ["name"] = $"accounts/acme/deployments/{id}",
            ["displayName"] = "Chat",
            ["baseModel"] = "accounts/acme/models/llama",
            ["state"] = state,
            ["status"] = new JsonObject { ["code"] = statusCode ?? (state == "FAILED" ? "FAILED_PRECONDITION" : "OK"), ["message"] = statusMessage ?? "" },
            ["minReplicaCount"] = 0,
            ["maxReplicaCount"] = 1,
            ["desiredReplicaCount"] = desired,
            ["replicaCount"] = ready,
            ["replicaStats"] = new JsonObject
            {
                ["pendingSchedulingReplicaCount"] = 0,
                ["downloadingModelReplicaCount"] = 0,
                ["initializingReplicaCount"] = initializing,
                ["readyReplicaCount"] = ready,
            },
            ["autoscalingPolicy"] = new JsonObject
            {
                ["scaleUpWindow"] = "30s",
                ["scaleDownWindow"] = "600s",
                ["scaleToZeroWindow"] = "3600s",
                ["loadTargets"] = new JsonObject { ["default"] = 0.8 },
            },
            ["acceleratorType"] = "NVIDIA_A100_80GB",
            ["acceleratorCount"] = 1,
            ["precision"] = "FP32",
            ["unusedAutoDeleteDuration"] = "604800s",
            ["enableAddons"] = false,
            ["createTime"] = "2026-11-21T09:30:00Z",
            ["updateTime"] = "2026-11-21T09:31:00Z",
            ["expireTime"] = "2026-11-28T09:30:00.5Z",
            ["createdBy"] = "key-1",
            ["events"] = new JsonArray
        {
            new JsonObject { ["time"] = "2026-11-21T09:30:00Z", ["type"] = "NORMAL", ["message"] = "created" },
            new JsonObject { ["time"] = "2026-11-21T09:31:00Z", ["type"] = "NORMAL", ["message"] = "replica 1 ready" },
        },
        };

    public static JsonObject Model(string state = "READY", string id = "llama", string sha256 = "ab12") => new()
    {
        ["name"] = $"accounts/acme/models/{id}",
        ["displayName"] = "Llama",
        ["kind"] = "HF_BASE_MODEL",
        ["state"] = state,
        ["sha256"] = sha256,
        ["sizeBytes"] = "25165824",
        ["architecture"] = "llama",
        ["contextLength"] = 2048,
        ["createTime"] = "2026-11-21T09:00:00Z",
        ["updateTime"] = "2026-11-21T09:01:00Z",
        ["deployedModelRefs"] = state == "DEPLOYED"
            ? new JsonArray { new JsonObject { ["name"] = "accounts/acme/deployedModels/x", ["deployment"] = "accounts/acme/deployments/chat", ["state"] = "DEPLOYED" } }
            : new JsonArray(),
    };
}
