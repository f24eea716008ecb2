using System.Text.Json;
using Kiln.Core.Errors;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>The body of <c>:scale</c>: <c>{"replicaCount": N}</c>, as in Fireworks' API.</summary>
public static class ScaleRequestBody
{
    /// <summary>The requested count; INVALID_ARGUMENT naming the field when it is missing or not an integer.</summary>
    public static int Parse(JsonElement body)
    {
        var violations = new List<FieldViolation>();
        int? count = null;
        foreach (var p in body.EnumerateObject())
        {
            if (p.Name != "replicaCount")
            {
                violations.Add(new(p.Name, "unknown field; the body is {\"replicaCount\": N}"));
                continue;
            }
            count = DeploymentRequest.Int(violations, p.Name, p.Value);
        }
        if (count is null && violations.Count == 0)
        {
            violations.Add(new("replicaCount", "is required"));
        }
        if (violations.Count > 0)
        {
            throw KilnError.InvalidArgument(violations);
        }
        return count!.Value;
    }
}
