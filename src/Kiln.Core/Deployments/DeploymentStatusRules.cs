using Kiln.Core.Errors;

namespace Kiln.Core.Deployments;

/// <summary>
/// The status the reconciler writes back: <see cref="DeploymentLifecycle.Assess"/>'s state and
/// message, with a capacity shortage or the reason for a requested deletion in front, and nothing
/// when that is what the store already holds.
/// </summary>
public static class DeploymentStatusRules
{
    /// <summary>The status to write, or null when it did not change.</summary>
    public static StatusChange? Decide(DeploymentObservation o, int maxReplicaFailures = DeploymentLifecycle.DefaultMaxReplicaFailures)
    {
        var assessment = DeploymentLifecycle.Assess(o, maxReplicaFailures);
        var code = assessment.Code;
        var message = assessment.Message;
        if (o.CapacityProblem is { } capacity && assessment.State is DeploymentState.Creating or DeploymentState.Ready or DeploymentState.Updating)
        {
            code = StatusCode.ResourceExhausted;
            message = $"{capacity} ({message})";
        }
        if (assessment.State.IsGoingAway() && o.DeletionReason is { } why)
        {
            // Whoever asked for the deletion said why; that stays the first thing the status says.
            code = why.Code;
            message = $"{why.Message}; {message}";
        }
        if (assessment.State == o.CurrentState && code == o.CurrentCode && message == o.CurrentMessage && assessment.ObservedGeneration == o.ObservedGeneration)
        {
            return null;
        }
        if (assessment.State == o.CurrentState && code == o.CurrentCode)
        {
            return new StatusChange(assessment.State, code, message, assessment.ObservedGeneration, null);
        }
        var text = assessment.State == o.CurrentState ? message : $"{o.CurrentState.ToWireName()} -> {assessment.State.ToWireName()}: {message}";
        var type = assessment.State == DeploymentState.Deleted ? "Deleted" : "StateChanged";
        return new StatusChange(assessment.State, code, message, assessment.ObservedGeneration, new StatusEvent(type, text));
    }
}

/// <summary>A status to write back.</summary>
/// <param name="State">The deployment's state.</param>
/// <param name="Code">OK, or why not.</param>
/// <param name="Message">The status message.</param>
/// <param name="ObservedGeneration">The newest generation fully rolled out.</param>
/// <param name="Event">The event to record once written, when the state or code changed; otherwise null.</param>
public sealed record StatusChange(DeploymentState State, StatusCode Code, string Message, long ObservedGeneration, StatusEvent? Event);

/// <summary>A deployment event: its type (StateChanged, Deleted) and message.</summary>
/// <param name="Type">The event's type.</param>
/// <param name="Message">The event's message.</param>
public sealed record StatusEvent(string Type, string Message);
