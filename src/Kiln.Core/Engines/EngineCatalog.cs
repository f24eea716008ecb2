using System.Text.RegularExpressions;

namespace Kiln.Core.Engines;

/// <summary>The engine profiles a server offers: the built-ins, as its configuration changed them, and its custom ones.</summary>
public sealed partial class EngineCatalog
{
    private readonly Dictionary<string, EngineProfile> _profiles;

    /// <summary>A catalog of <paramref name="profiles"/> (the last of a name wins).</summary>
    public EngineCatalog(IEnumerable<EngineProfile> profiles)
    {
        _profiles = new Dictionary<string, EngineProfile>(StringComparer.Ordinal);
        foreach (var p in profiles)
        {
            _profiles[p.Name] = p;
        }
    }

    /// <summary>The built-in profiles only.</summary>
    public static EngineCatalog Default { get; } = new(EngineProfiles.BuiltIn);

    /// <summary>Every profile name, sorted.</summary>
    public IReadOnlyList<string> Names => [.. _profiles.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The profile named <paramref name="name"/>, or null.</summary>
    public EngineProfile? Find(string name) => _profiles.GetValueOrDefault(name);

    /// <summary>The profile of a stored deployment; Kiln's own for a name this server no longer knows (so its load is still read).</summary>
    public EngineProfile For(string name) => Find(name) ?? EngineProfiles.Kiln;

    /// <summary>True when <paramref name="name"/> is a well-formed engine name: lowercase letters, digits and '-', starting with a letter, at most 63.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();
}
