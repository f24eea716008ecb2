// A stand-in for vLLM, SGLang and llama.cpp's server, for tests on machines without GPUs: it takes
// each engine's command line (EngineCommandLine), serves the OpenAI completions and chat surface
// with deterministic text and usage (plain and streamed), /health, the engine's own metric names on
// /metrics and its runtime LoRA endpoints, and drains and exits on SIGTERM.
using System.Net;
using System.Runtime.InteropServices;
using Kiln.StandInEngine;

EngineCommandLine command;
try
{
    command = EngineCommandLine.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
Console.WriteLine($"stand-in {command.Dialect}: serving {command.Model} as {command.ServedModelName} (tp {command.WorldSize}, batch {command.MaxBatch}, lora {command.Lora})");
if (command.ModelProblem() is { } problem)
{
    Console.Error.WriteLine($"error: {problem}");
    return 1;
}
// Like the engines, nothing listens until the model is loaded.
await Task.Delay(int.TryParse(Environment.GetEnvironmentVariable("STANDIN_LOAD_MS"), out var ms) ? ms : 300);

var listener = new HttpListener();
// An engine told to bind every interface answers whatever host name it is reached by.
listener.Prefixes.Add($"http://{(command.Host is "0.0.0.0" or "::" ? "+" : command.Host)}:{command.Port}/");
listener.Start();
Console.WriteLine($"stand-in {command.Dialect}: listening on {command.Host}:{command.Port}");
var engine = new Engine(command, new Metrics(command.Dialect, command.ServedModelName, command.MaxBatch));
var stopping = new TaskCompletionSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stopping.TrySetResult();
});
while (!stopping.Task.IsCompleted)
{
    var next = listener.GetContextAsync();
    if (await Task.WhenAny(next, stopping.Task) != next)
    {
        break;
    }
    _ = engine.ServeAsync(await next);
}
await engine.DrainAsync(TimeSpan.FromSeconds(10));
listener.Stop();
Console.WriteLine($"stand-in {command.Dialect}: stopped");
return 0;
