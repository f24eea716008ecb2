using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kiln.Architecture.Tests;

/// <summary>
/// The "who writes which store field" table of docs/architecture.md, checked on the built server:
/// each deployment writer of the store is called from the types the table names and no others
/// (lambdas and async methods count as the type that declares them).
/// </summary>
public class FieldWriters
{
    private static readonly string ServerPath = typeof(Kiln.Server.Hosting.ServerHost).Assembly.Location;

    [Theory]
    [InlineData("UpdateDeploymentStatusAsync", "Kiln.Server.ControlPlane.Controllers.DeploymentPass")]
    [InlineData("UpdateDeploymentSpecAsync", "Kiln.Server.ControlPlane.Api.DeploymentsApi")]
    [InlineData("SetDesiredReplicaCountAsync", "Kiln.Server.ControlPlane.Controllers.AutoscalerController")]
    [InlineData("UndeleteDeploymentAsync", "Kiln.Server.ControlPlane.Api.DeploymentsApi")]
    [InlineData("RequestDeploymentDeletionAsync", "Kiln.Server.ControlPlane.Api.DeploymentsApi", "Kiln.Server.ControlPlane.Controllers.Reaper")]
    // The control-plane benchmark and the gateway's warm-up seed deployments into throwaway stores of their own.
    [InlineData("CreateDeploymentAsync", "Kiln.Server.Benchmarks.ControlPlaneBench", "Kiln.Server.ControlPlane.Api.DeploymentsApi", "Kiln.Server.Hosting.GatewayWarmup")]
    [InlineData("RequestWakeAsync", "Kiln.Server.Signals.WakeRequests")]
    [InlineData("RequestScaleAsync", "Kiln.Server.ControlPlane.Api.DeploymentsApi")]
    [InlineData("TakeScaleRequestsAsync", "Kiln.Server.ControlPlane.Controllers.AutoscalerController")]
    [InlineData("TakeWakeRequestsAsync", "Kiln.Server.ControlPlane.Controllers.AutoscalerController")]
    [InlineData("TryAcquireOrRenewLeaseAsync", "Kiln.Server.Benchmarks.ControlPlaneBench", "Kiln.Server.Hosting.LeaderElector")]
    [InlineData("ReleaseLeaseAsync", "Kiln.Server.Hosting.LeaderElector")]
    public void Only_the_owner_calls_a_deployment_writer(string method, params string[] owners) =>
        Assert.Equal(owners.Order(StringComparer.Ordinal), Callers(method));

    /// <summary>The outermost types of the server whose code calls <c>IKilnStore.{method}</c>.</summary>
    private static List<string> Callers(string method)
    {
        using var module = ModuleDefinition.ReadModule(ServerPath);
        var callers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            foreach (var body in type.Methods.Where(m => m.HasBody).Select(m => m.Body))
            {
                if (body.Instructions.Any(i => i.OpCode.FlowControl == FlowControl.Call && i.Operand is MethodReference called
                        && called.Name == method && called.DeclaringType.FullName == "Kiln.Store.IKilnStore"))
                {
                    callers.Add(Outermost(type).FullName);
                }
            }
        }
        Assert.NotEmpty(callers); // a renamed method cannot make the rule pass vacuously
        return [.. callers];
    }

    private static TypeDefinition Outermost(TypeDefinition type) => type.DeclaringType is null ? type : Outermost(type.DeclaringType);
}
