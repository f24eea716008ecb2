using System.CommandLine;
using Kiln.Engine.Gguf;
using Kiln.Server.Commands;

var root = new RootCommand("kiln: self-hosted on-demand LLM deployments")
{
    EngineToolCommands.Quantize(),
    EngineToolCommands.GenerateModel(),
    EngineToolCommands.Bench(),
    ServerCommand.Create(),
};
try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is GgufFormatException or IOException or UnauthorizedAccessException
                              or NotSupportedException or InvalidDataException or ArgumentException)
{
    Console.Error.WriteLine($"kiln: {e.Message}");
    return 1;
}
