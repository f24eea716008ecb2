using System.CommandLine;
using System.Globalization;
using Kiln.Cli.Api;
using Kiln.Cli.Formatting;
using Kiln.Core.Time;

namespace Kiln.Cli.Commands;

/// <summary><c>get usage</c>: accelerator-seconds, cost, requests and tokens over a time range.</summary>
public static class UsageCommands
{
    public static Command Get(CliApp app)
    {
        var command = new Command("usage", "Show accelerator-seconds, cost, requests and tokens per deployment and API key");
        var start = new Option<string?>("--start")
        {
            Description = "Start of the range: an RFC 3339 time, or a Go duration back from now (e.g. 24h); default: the beginning",
            HelpName = "TIME",
        };
        var end = new Option<string?>("--end") { Description = "End of the range (exclusive), same forms; default: now", HelpName = "TIME" };
        var deployment = new Option<string?>("--deployment") { Description = "Only this deployment (ID or accounts/<A>/deployments/<D>)", HelpName = "DEPLOYMENT" };
        command.Options.Add(start);
        command.Options.Add(end);
        command.Options.Add(deployment);
        app.SetAction(command, async (ctx, ct) =>
        {
            var account = await ctx.AccountIdAsync(ct);
            var query = new List<string>();
            if (ctx.Get(start) is { Length: > 0 } s)
                query.Add("startTime=" + Uri.EscapeDataString(Time("--start", s)));
            if (ctx.Get(end) is { Length: > 0 } e)
                query.Add("endTime=" + Uri.EscapeDataString(Time("--end", e)));
            if (ctx.Get(deployment) is { Length: > 0 } d)
                query.Add("deployment=" + Uri.EscapeDataString(d));
            var path = ApiPaths.Usage(account) + (query.Count == 0 ? "" : "?" + string.Join('&', query));
            var usage = await ctx.Client.GetAsync(path, ct);
            CliApp.Print(ctx, usage, () => UsageText.Render(usage));
        });
        return command;
    }

    // A Go duration means that long before now, as "--start 24h" reads.
    private static string Time(string flag, string value)
    {
        if (GoDuration.TryParse(value, out var ago, out _))
            return DateTimeOffset.UtcNow.Subtract(ago).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        throw new UsageException($"{flag}: expected an RFC 3339 time (2026-11-21T09:30:00Z) or a Go duration (24h), got \"{value}\"");
    }
}
