using System.CommandLine;

namespace Kiln.Cli.Commands;

/// <summary>The flags every kilnctl command takes (recursive, so they may follow any verb).</summary>
public sealed class GlobalOptions
{
    public const string DefaultServer = "http://127.0.0.1:8420";

    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"Control-plane URL (env KILN_SERVER, else the config file, else {DefaultServer})",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key (env KILN_API_KEY, else the config file written by 'kilnctl login')",
        HelpName = "KEY",
        Recursive = true,
    };

    public Option<string?> AccountId { get; } = new("--account-id", "-a")
    {
        Description = "Account to act on (default: the API key's own account)",
        HelpName = "ACCOUNT_ID",
        Recursive = true,
    };

    public Option<string> Output { get; } = new("--output", "-o")
    {
        Description = "Output format: text or json (json prints the raw resource)",
        HelpName = "text|json",
        Recursive = true,
        DefaultValueFactory = _ => "text",
    };

    public GlobalOptions()
    {
        Output.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not ("text" or "json"))
                result.AddError($"--output: unknown format \"{value}\" (allowed: text, json)");
        });
    }

    public void AddTo(Command root)
    {
        root.Options.Add(Server);
        root.Options.Add(ApiKey);
        root.Options.Add(AccountId);
        root.Options.Add(Output);
    }
}
