using System.CommandLine;
using System.Text.Json.Nodes;
using Kiln.Cli.Formatting;

namespace Kiln.Cli.Commands;

/// <summary>Builds kilnctl's command tree: firectl-style verbs (create, get, ...) over resource nouns.</summary>
public sealed class CliApp(TextWriter stdout, TextWriter stderr, CliHost host)
{
    public GlobalOptions Globals { get; } = new();

    public RootCommand BuildRoot()
    {
        var root = new RootCommand("kilnctl: manage Kiln models and on-demand deployments");
        Globals.AddTo(root);

        root.Subcommands.Add(LoginCommands.Login(this));
        root.Subcommands.Add(LoginCommands.WhoAmI(this));
        root.Subcommands.Add(Verb("create", "Create a resource",
            DeploymentCommands.Create(this), AddonCommands.CreateModel(this), ApiKeyCommands.Create(this), AccountCommands.Create(this)));
        root.Subcommands.Add(Verb("get", "Show one resource",
            DeploymentCommands.Get(this), ModelCommands.Get(this), AccountCommands.Get(this), UsageCommands.Get(this), CatalogCommands.Get(this),
            ShapeCommands.Get(this)));
        root.Subcommands.Add(Verb("list", "List resources",
            DeploymentCommands.List(this), ModelCommands.List(this), AddonCommands.ListDeployedModels(this), ApiKeyCommands.List(this), CatalogCommands.List(this),
            AcceleratorCommands.List(this), EngineCommands.List(this), ShapeCommands.List(this)));
        root.Subcommands.Add(Verb("update", "Change a resource", DeploymentCommands.Update(this), AccountCommands.Update(this)));
        root.Subcommands.Add(Verb("delete", "Delete a resource",
            DeploymentCommands.Delete(this), ModelCommands.Delete(this), ApiKeyCommands.Delete(this)));
        root.Subcommands.Add(Verb("scale", "Set a deployment's replica count", DeploymentCommands.Scale(this)));
        root.Subcommands.Add(Verb("undelete", "Bring a deleted resource back", DeploymentCommands.Undelete(this)));
        root.Subcommands.Add(Verb("import", "Import a resource", ModelCommands.Import(this)));
        foreach (var match in ShapeCommands.Match(this))
            root.Subcommands.Add(match);
        root.Subcommands.Add(AddonCommands.Deploy(this));
        root.Subcommands.Add(AddonCommands.Undeploy(this));
        return root;
    }

    private static Command Verb(string name, string description, params Command[] nouns)
    {
        var verb = new Command(name, description);
        foreach (var noun in nouns)
            verb.Subcommands.Add(noun);
        return verb;
    }

    /// <summary>A resource noun that also answers to its plural ("deployment", "deployments").</summary>
    public static Command Noun(string singular, string plural, string description)
    {
        var command = new Command(singular, description);
        command.Aliases.Add(plural);
        return command;
    }

    public void SetAction(Command command, Func<CommandContext, CancellationToken, Task> action) =>
        command.SetAction(async (parse, ct) =>
        {
            using var ctx = new CommandContext(parse, Globals, stdout, stderr, host);
            await action(ctx, ct);
            return 0;
        });

    /// <summary>Prints a resource: its raw JSON with -o json, else its text form.</summary>
    public static void Print(CommandContext ctx, JsonNode resource, Func<string> text)
    {
        ctx.Out.Write(ctx.Json ? Json.Pretty(resource) + "\n" : text());
        ctx.Out.Flush();
    }
}
