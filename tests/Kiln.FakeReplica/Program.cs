// A stand-in for `kiln replica` with the same command line (ReplicaArgs) and HTTP surface (/health, /v1/models,
// /v1/completions), used to test the control plane without loading real weights. Like the real
// replica it fails with a message on stderr when the model cannot load (here: no token_embd.weight),
// answers 503 on /health while "loading", and drains and exits on SIGTERM.
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Kiln.Core.Replicas;
using Kiln.Engine.Gguf;

ReplicaArgs parsed;
try
{
    parsed = ReplicaArgs.Parse(args);
}
catch (ReplicaArgsException e)
{
    Console.Error.WriteLine($"kiln replica: {e.Message}");
    return 2;
}
var model = parsed.ModelPath;
var port = parsed.Port;
var host = parsed.Host;
var modelName = parsed.ModelName ?? model;
var replicaId = parsed.ReplicaId ?? "";
Console.WriteLine($"replica {replicaId}: loading {model}");
try
{
    using var gguf = GgufFile.Open(model);
    if (gguf.FindTensor("token_embd.weight") is null)
    {
        Console.Error.WriteLine($"kiln replica: cannot load {model}: tensor token_embd.weight is missing");
        return 3;
    }
}
catch (Exception e) when (e is GgufFormatException or IOException)
{
    Console.Error.WriteLine($"kiln replica: cannot load {model}: {e.Message}");
    return 3;
}

var listener = new HttpListener();
listener.Prefixes.Add($"http://{host}:{port}/");
listener.Start();
var loadDelay = int.TryParse(Environment.GetEnvironmentVariable("KILN_FAKE_REPLICA_LOAD_MS"), out var ms) ? ms : 300;
var readyAt = DateTime.UtcNow.AddMilliseconds(loadDelay);
var stopping = new TaskCompletionSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stopping.TrySetResult();
});
Console.WriteLine($"replica {replicaId}: listening on {host}:{port}");

async Task Serve(HttpListenerContext ctx)
{
    var path = ctx.Request.Url?.AbsolutePath ?? "/";
    object body;
    var status = 200;
    if (path == "/health")
    {
        var ready = DateTime.UtcNow >= readyAt;
        status = ready ? 200 : 503;
        body = new { status = ready ? "ok" : "loading", replicaId };
    }
    else if (path == "/v1/models")
    {
        body = new { @object = "list", data = new[] { new { id = modelName, @object = "model", owned_by = "kiln" } } };
    }
    else if (path == "/v1/completions")
    {
        body = new { id = "cmpl-fake", @object = "text_completion", model = modelName, choices = new[] { new { index = 0, text = " once upon a time", finish_reason = "length" } } };
    }
    else
    {
        status = 404;
        body = new { error = new { message = $"no route {path}" } };
    }
    var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body));
    ctx.Response.StatusCode = status;
    ctx.Response.ContentType = "application/json";
    await ctx.Response.OutputStream.WriteAsync(bytes);
    ctx.Response.Close();
}

while (!stopping.Task.IsCompleted)
{
    var next = listener.GetContextAsync();
    if (await Task.WhenAny(next, stopping.Task) != next)
    {
        break;
    }
    _ = Serve(await next);
}
listener.Stop();
Console.WriteLine($"replica {replicaId}: stopped");
return 0;
