using Kiln.Core.Accelerators;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Runtime;
using Kiln.Server.Auth;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>GET /v1/accelerators</c>: what the runtime's nodes hold (type, count, memory, devices), which
/// replicas hold what, and what is free; and the checks a deployment spec passes against it.
/// </summary>
/// <remarks>
/// Any API key may read it: it says what a deployment may ask for. Who holds a device is named
/// only to admins and to the holder's own account; others see the device as held.
/// </remarks>
public static class AcceleratorsApi
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/accelerators", (HttpContext ctx, IReplicaRuntime runtime) =>
        {
            var caller = Caller.Of(ctx);
            var inventory = runtime.Accelerators();
            bool Visible(string account) => caller.IsAdmin || caller.AccountId == account;
            return ApiJson.Ok(new
            {
                source = inventory.Source,
                defaultAcceleratorType = Placement.DefaultType(inventory).ToWireName(),
                warnings = inventory.Warnings,
                nodes = inventory.Nodes.Select(n => new
                {
                    node = n.Node,
                    accelerators = n.Pools.Select(p => new
                    {
                        // GPUs of a type the runtime cannot tell (an untyped Slurm gres) take any GPU type.
                        acceleratorType = p.Type?.ToWireName() ?? "GPU",
                        count = p.Total,
                        free = p.Free,
                        memoryMiB = p.MemoryMiB,
                        devices = p.Devices.Select(d => new
                        {
                            id = d.Device.Id,
                            index = d.Device.Index,
                            uuid = d.Device.Uuid,
                            name = d.Device.Name,
                            memoryMiB = d.Device.MemoryMiB,
                            held = d.ReplicaId is not null,
                            replica = d.ReplicaId is { } id && p.Holders.FirstOrDefault(h => h.ReplicaId == id) is { } h && Visible(h.Account) ? Name(h) : null,
                        }),
                        replicas = p.Holders.Select(h => Visible(h.Account)
                            ? new { replica = Name(h), count = h.Count, devices = h.Devices }
                            : new { replica = "(another account)", count = h.Count, devices = h.Devices }),
                    }),
                }),
            });
        });

    /// <summary>
    /// Throws INVALID_ARGUMENT when no node of <paramref name="runtime"/> holds what
    /// <paramref name="spec"/> asks for per replica, naming the types and counts available.
    /// </summary>
    public static void RequirePlaceable(IReplicaRuntime runtime, DeploymentSpec spec)
    {
        if (Placement.Check(runtime.Accelerators(), spec.AcceleratorType, spec.AcceleratorCount) is { } violation)
        {
            throw KilnError.InvalidArgument([violation]);
        }
    }

    private static string Name(ReplicaHolding h) => $"accounts/{h.Account}/deployments/{h.DeploymentId}/replicas/{h.ReplicaId}";
}
