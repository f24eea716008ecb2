using System.Diagnostics.CodeAnalysis;

namespace Kiln.Core.Names;

/// <summary>The name of a model, <c>accounts/&lt;A&gt;/models/&lt;M&gt;</c>.</summary>
public sealed record ModelName
{
    /// <summary>Creates a name; throws INVALID_ARGUMENT unless both IDs follow the ID rule.</summary>
    public ModelName(string account, string model)
    {
        NameParser.Require(account, model, "model");
        Account = account;
        Model = model;
    }

    /// <summary>The owning account's ID.</summary>
    public string Account { get; }

    /// <summary>The model's ID within the account.</summary>
    public string Model { get; }

    /// <summary>Parses <c>accounts/A/models/M</c>; throws INVALID_ARGUMENT naming the bad value.</summary>
    public static ModelName Parse(string name) =>
        TryParse(name, out var parsed, out var error) ? parsed : throw NameParser.Invalid(error);

    /// <summary>Parses <c>accounts/A/models/M</c>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? name, [NotNullWhen(true)] out ModelName? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = NameParser.TryParse(name, "models", "model", out var account, out var id, out error)
            ? new ModelName(account, id)
            : null;
        return parsed is not null;
    }

    /// <summary>
    /// Accepts a full name or a bare model ID, which is taken to be in <paramref name="account"/>
    /// (how <c>kilnctl get model &lt;MODEL_ID&gt;</c> resolves its argument).
    /// </summary>
    public static ModelName FromIdOrName(string value, string account) =>
        value.Contains('/') ? Parse(value) : new ModelName(account, value);

    /// <summary><c>accounts/A/models/M</c>.</summary>
    public override string ToString() => $"accounts/{Account}/models/{Model}";
}
