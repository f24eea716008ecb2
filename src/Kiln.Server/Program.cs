using System.CommandLine;
using Kiln.Engine.Gguf;
using Kiln.Engine.Tensors;
using Kiln.Server;
using Kiln.Server.Cli;
using Kiln.Server.Commands;

// A bad kernel-level override fails every command that loads a model; say so at once, as for a bad flag.
try
{
    Simd.Configure(Environment.GetEnvironmentVariable(Simd.Variable), Simd.Supported);
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"kiln: {e.Message}");
    return 2;
}

var root = KilnCommand.Create(ModelLoader.Load);
root.Subcommands.Add(EngineToolCommands.Quantize());
root.Subcommands.Add(EngineToolCommands.GenerateModel());
root.Subcommands.Add(EngineToolCommands.Bench());
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(EngineExecCommand.Create());
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A bad flag or value: say which, and exit 2 as kilnctl does, instead of printing the whole help.
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"kiln: {error.Message}");
    }
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is GgufFormatException or IOException or UnauthorizedAccessException
                              or NotSupportedException or InvalidDataException or ArgumentException)
{
    Console.Error.WriteLine($"kiln: {e.Message}");
    return 1;
}
