using System.CommandLine.Parsing;

namespace Kiln.Server.Commands;

/// <summary>What an option's validator may read of its value.</summary>
internal static class OptionChecks
{
    /// <summary>
    /// The option's value when it parses as <typeparamref name="T"/>. A validator runs on values that did not
    /// parse too, and reading one throws; the parser already reports those by the option's name, so a
    /// validator only checks the values this returns.
    /// </summary>
    public static bool TryGetValue<T>(this OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }
}
