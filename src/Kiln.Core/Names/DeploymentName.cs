using System.Diagnostics.CodeAnalysis;

namespace Kiln.Core.Names;

/// <summary>The name of a deployment, <c>accounts/&lt;A&gt;/deployments/&lt;D&gt;</c>.</summary>
public sealed record DeploymentName
{
    /// <summary>Creates a name; throws INVALID_ARGUMENT unless both IDs follow the ID rule.</summary>
    public DeploymentName(string account, string deployment)
    {
        NameParser.Require(account, deployment, "deployment");
        Account = account;
        Deployment = deployment;
    }

    /// <summary>The owning account's ID.</summary>
    public string Account { get; }

    /// <summary>The deployment's ID within the account.</summary>
    public string Deployment { get; }

    /// <summary>Parses <c>accounts/A/deployments/D</c>; throws INVALID_ARGUMENT naming the bad value.</summary>
    public static DeploymentName Parse(string name) =>
        TryParse(name, out var parsed, out var error) ? parsed : throw NameParser.Invalid(error);

    /// <summary>Parses <c>accounts/A/deployments/D</c>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? name, [NotNullWhen(true)] out DeploymentName? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = NameParser.TryParse(name, "deployments", "deployment", out var account, out var id, out error)
            ? new DeploymentName(account, id)
            : null;
        return parsed is not null;
    }

    /// <summary>Accepts a full name or a bare deployment ID, which is taken to be in <paramref name="account"/>.</summary>
    public static DeploymentName FromIdOrName(string value, string account) =>
        value.Contains('/') ? Parse(value) : new DeploymentName(account, value);

    /// <summary><c>accounts/A/deployments/D</c>.</summary>
    public override string ToString() => $"accounts/{Account}/deployments/{Deployment}";
}
