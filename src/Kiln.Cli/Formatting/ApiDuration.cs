using Kiln.Core.Time;

namespace Kiln.Cli.Formatting;

/// <summary>Shows the API's protobuf durations the way Go prints them, as firectl users expect.</summary>
public static class ApiDuration
{
    /// <summary>"600s" -> "10m0s"; text that is not a duration is shown as is.</summary>
    public static string ToGo(string? text) =>
        ProtoDuration.TryParse(text, out var value, out _) ? GoDuration.Format(value) : text ?? "";
}
