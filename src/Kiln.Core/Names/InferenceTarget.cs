using System.Diagnostics.CodeAnalysis;
using Kiln.Core.Errors;

namespace Kiln.Core.Names;

/// <summary>
/// What the <c>model</c> field of an inference request names: a model (route to any deployment of
/// it), a deployment, or both in the legacy <c>&lt;model&gt;#&lt;deployment&gt;</c> form.
/// At least one of <see cref="Model"/> and <see cref="Deployment"/> is set.
/// </summary>
public sealed record InferenceTarget
{
    private InferenceTarget(ModelName? model, DeploymentName? deployment)
    {
        Model = model;
        Deployment = deployment;
    }

    /// <summary>The model to serve, when named.</summary>
    public ModelName? Model { get; }

    /// <summary>The deployment to route to, when named.</summary>
    public DeploymentName? Deployment { get; }

    /// <summary>Parses, throwing INVALID_ARGUMENT; see <see cref="TryParse"/> for the forms.</summary>
    public static InferenceTarget Parse(string value, string? callerAccount) =>
        TryParse(value, callerAccount, out var target, out var error) ? target : throw KilnError.InvalidArgument(error);

    /// <summary>
    /// Parses one of: <c>accounts/A/models/M</c>; <c>accounts/A/deployments/D</c>;
    /// <c>accounts/A/models/M#accounts/A/deployments/D</c>; or <c>M#D</c>, where each side of the
    /// <c>#</c> may be a full name or a bare ID, and a bare ID is resolved in
    /// <paramref name="callerAccount"/> (the authenticated account).
    /// </summary>
    public static bool TryParse(string? value, string? callerAccount,
        [NotNullWhen(true)] out InferenceTarget? target, [NotNullWhen(false)] out string? error)
    {
        target = null;
        if (string.IsNullOrEmpty(value))
        {
            error = "model must not be empty";
            return false;
        }
        var hash = value.IndexOf('#');
        if (hash < 0)
        {
            if (ModelName.TryParse(value, out var model, out _))
            {
                target = new InferenceTarget(model, null);
            }
            else if (DeploymentName.TryParse(value, out var deployment, out _))
            {
                target = new InferenceTarget(null, deployment);
            }
            error = target is null
                ? $"invalid model {ResourceNames.Quote(value)}: expected accounts/<ACCOUNT_ID>/models/<MODEL_ID>, accounts/<ACCOUNT_ID>/deployments/<DEPLOYMENT_ID> or <MODEL>#<DEPLOYMENT>"
                : null;
            return target is not null;
        }

        var modelPart = value[..hash];
        var deploymentPart = value[(hash + 1)..];
        if (!TryResolve(modelPart, callerAccount, "model", out var m, out error)
            || !TryResolve(deploymentPart, callerAccount, "deployment", out var d, out error))
        {
            error = $"invalid model {ResourceNames.Quote(value)}: {error}";
            return false;
        }
        if (!ModelName.TryParse(m, out var model2, out error) || !DeploymentName.TryParse(d, out var deployment2, out error))
        {
            error = $"invalid model {ResourceNames.Quote(value)}: {error}";
            return false;
        }
        target = new InferenceTarget(model2, deployment2);
        return true;
    }

    private static bool TryResolve(string part, string? callerAccount, string kind, out string fullName, [NotNullWhen(false)] out string? error)
    {
        fullName = part;
        if (part.Contains('/'))
        {
            var ok = kind == "model" ? ModelName.TryParse(part, out _, out error) : DeploymentName.TryParse(part, out _, out error);
            return ok;
        }
        error = ResourceNames.ValidateId(part, kind);
        if (error is not null)
        {
            return false;
        }
        if (callerAccount is null)
        {
            error = $"bare {kind} ID {ResourceNames.Quote(part)} needs an account; use the full name";
            return false;
        }
        fullName = $"accounts/{callerAccount}/{kind}s/{part}";
        return true;
    }

    /// <summary>The canonical text: a full name, or <c>model#deployment</c> with full names.</summary>
    public override string ToString() =>
        Model is not null && Deployment is not null ? $"{Model}#{Deployment}" : (Model?.ToString() ?? Deployment!.ToString());
}
