using Kiln.Core.Errors;
using Kiln.Server.Auth;
using Kiln.Server.Signals;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>GET /v1/server</c> (admin keys): which server instance answered, whether it leads, and who
/// holds the leader lease in the store (absent while the store cannot be read).
/// </summary>
public static class ServerApi
{
    /// <summary>Maps the route.</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/server", async (HttpContext ctx, Leadership leadership, IKilnStore store, CancellationToken ct) =>
        {
            if (!Caller.Of(ctx).IsAdmin)
            {
                throw KilnError.PermissionDenied("/v1/server describes the server instances and needs an admin API key");
            }
            LeaseRecord? lease = null;
            try
            {
                lease = await store.GetLeaseAsync(Leadership.LeaseName, ct);
            }
            catch (KilnError)
            {
                // The store is unreachable: say what this instance knows.
            }
            return ApiJson.Ok(new
            {
                instance = leadership.InstanceId,
                leader = leadership.IsLeader,
                leaseEpoch = leadership.Current?.Epoch,
                lease = lease is null ? null : new
                {
                    holder = lease.Holder,
                    epoch = lease.Epoch,
                    acquireTime = ApiJson.Time(lease.AcquireTime),
                    expireTime = ApiJson.Time(lease.ExpireTime),
                },
            });
        });
}
