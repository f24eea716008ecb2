using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>A deployed model (an addon on a deployment) as the API shows it.</summary>
public static class DeployedModelJson
{
    /// <summary>The JSON object of <paramref name="d"/>.</summary>
    public static object Render(DeployedModelRecord d) => new
    {
        name = d.Name,
        model = d.ModelName,
        deployment = d.DeploymentName,
        state = d.State.ToWireName(),
        // Why it is not loaded (a replica refused it); absent while nothing failed.
        status = d.Status is { } status ? new { code = status.Code.ToWireName(), message = status.Message } : null,
        createTime = ApiJson.Time(d.CreateTime),
        updateTime = ApiJson.Time(d.UpdateTime),
    };
}
