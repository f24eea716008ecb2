using System.CommandLine;
using Kiln.Engine.Gguf;
using Kiln.Server;
using Kiln.Server.Cli;
using Kiln.Server.Commands;

var root = KilnCommand.Create(ModelLoader.Load);
root.Subcommands.Add(EngineToolCommands.Quantize());
root.Subcommands.Add(EngineToolCommands.GenerateModel());
root.Subcommands.Add(EngineToolCommands.Bench());
root.Subcommands.Add(ServerCommand.Create());
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is GgufFormatException or IOException or UnauthorizedAccessException
                              or NotSupportedException or InvalidDataException or ArgumentException)
{
    Console.Error.WriteLine($"kiln: {e.Message}");
    return 1;
}
