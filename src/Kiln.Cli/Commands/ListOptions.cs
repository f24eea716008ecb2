using System.CommandLine;

namespace Kiln.Cli.Commands;

/// <summary>--filter and --order-by of list commands, sent as the API's <c>filter</c> and <c>orderBy</c>.</summary>
public sealed class ListOptions
{
    private readonly Option<string?> _filter = new("--filter")
    {
        Description = "Only items matching an AIP-160 filter, e.g. 'state=READY AND create_time > \"2026-11-21T00:00:00Z\"'",
        HelpName = "EXPRESSION",
    };

    private readonly Option<string?> _orderBy = new("--order-by")
    {
        Description = "Sort by fields, each optionally followed by desc, e.g. 'create_time desc, name'",
        HelpName = "FIELDS",
    };

    public ListOptions(Command command)
    {
        command.Options.Add(_filter);
        command.Options.Add(_orderBy);
    }

    /// <summary>The query parameters to add (null when neither flag was given); the server checks the expressions.</summary>
    public string? Query(CommandContext ctx, string? other = null)
    {
        var parts = new List<string>();
        if (other is not null)
            parts.Add(other);
        if (ctx.Get(_filter) is { } filter)
            parts.Add("filter=" + Uri.EscapeDataString(filter));
        if (ctx.Get(_orderBy) is { } orderBy)
            parts.Add("orderBy=" + Uri.EscapeDataString(orderBy));
        return parts.Count == 0 ? null : string.Join('&', parts);
    }
}
