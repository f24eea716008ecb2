namespace Kiln.Core.Billing;

/// <summary>One deployment's metered accelerator time in a window.</summary>
/// <param name="Deployment">The deployment's name.</param>
/// <param name="AcceleratorSeconds">Accelerator-seconds, world size included.</param>
/// <param name="Cost">USD.</param>
public sealed record DeploymentCost(string Deployment, decimal AcceleratorSeconds, decimal Cost);
