using System.Diagnostics.CodeAnalysis;
using Kiln.Core.Names;

namespace Kiln.Core.Shapes;

/// <summary>
/// A reference to a shape version as <c>--deployment-shape</c> and <c>deploymentShape</c> take it: a
/// shape ID (<c>cpu-minimal</c>), a shape name (<c>accounts/A/deploymentShapes/S</c>) or a version
/// name (<c>.../versions/V</c>, where <c>latest</c> is the newest). A missing account means the
/// caller's shapes, then the server's; a missing version means <c>latest</c>.
/// </summary>
/// <param name="Account">The account, or null for "the caller's, then the server's".</param>
/// <param name="ShapeId">The shape ID.</param>
/// <param name="VersionId">The version ID, or null for the newest.</param>
public sealed record ShapeName(string? Account, string ShapeId, string? VersionId)
{
    /// <summary>The account holding the server's built-in shapes and those of its configuration file.</summary>
    public const string BuiltInAccount = "kiln";

    /// <summary>The version ID meaning the newest.</summary>
    public const string Latest = "latest";

    /// <summary>Parses a reference; false with the reason when it is malformed.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ShapeName? name, out string error)
    {
        name = null;
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            error = "a deployment shape is required (a shape ID, accounts/A/deploymentShapes/S or .../versions/V)";
            return false;
        }
        var parts = text.Split('/');
        string? account = null;
        string id;
        string? version = null;
        if (parts.Length == 1)
        {
            id = parts[0];
        }
        else if (parts.Length is 4 or 6 && parts[0] == "accounts" && parts[2] == "deploymentShapes" && (parts.Length == 4 || parts[4] == "versions"))
        {
            account = parts[1];
            id = parts[3];
            version = parts.Length == 6 ? parts[5] : null;
        }
        else
        {
            error = $"\"{text}\" is not a deployment shape: give a shape ID, accounts/A/deploymentShapes/S or accounts/A/deploymentShapes/S/versions/V";
            return false;
        }
        if (account is not null && ResourceNames.ValidateId(account, "account") is { } badAccount)
        {
            error = badAccount;
            return false;
        }
        if (ResourceNames.ValidateId(id, "deployment shape") is { } badId)
        {
            error = badId;
            return false;
        }
        if (version is not null && (version.Length == 0 || version.Length > 63 || !version.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            error = $"\"{version}\" is not a version ID (letters, digits and '-', or \"latest\")";
            return false;
        }
        name = new ShapeName(account, id, version == Latest ? null : version);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() =>
        (Account is null ? ShapeId : $"accounts/{Account}/deploymentShapes/{ShapeId}") + (VersionId is null ? "" : $"/versions/{VersionId}");
}
