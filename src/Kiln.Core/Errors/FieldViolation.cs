namespace Kiln.Core.Errors;

/// <summary>One problem with one request field, e.g. ("maxReplicaCount", "must be at least 1").</summary>
/// <param name="Field">The camelCase JSON path of the field, e.g. "autoscalingPolicy.scaleUpWindow".</param>
/// <param name="Description">What is wrong, naming the bad value and the rule.</param>
public sealed record FieldViolation(string Field, string Description)
{
    /// <summary>"field: description".</summary>
    public override string ToString() => $"{Field}: {Description}";
}
