using System.CommandLine;
using System.CommandLine.Parsing;
using Kiln.Engine.Models;
using Kiln.Engine.Tokenizers;
using Kiln.Server.Replica;

namespace Kiln.Server.Cli;

/// <summary>The <c>kiln</c> command line. The model loader is passed in so tests can serve a fake model.</summary>
public static class KilnCommand
{
    public static RootCommand Create(Func<ReplicaOptions, (ILanguageModel, ITokenizer, IChatFormatter)> loadModel)
    {
        var root = new RootCommand("Kiln: self-hosted on-demand LLM deployments.");
        root.Subcommands.Add(Replica(loadModel));
        return root;
    }

    private static Command Replica(Func<ReplicaOptions, (ILanguageModel, ITokenizer, IChatFormatter)> loadModel)
    {
        var model = new Option<string>("--model") { Description = "GGUF model file to serve.", Required = true };
        model.Validators.Add(r =>
        {
            var path = r.GetValueOrDefault<string>();
            if (string.IsNullOrWhiteSpace(path)) r.AddError("--model must name a GGUF file.");
            else if (!File.Exists(path)) r.AddError($"--model: file not found: {path}");
        });
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        host.Validators.Add(r =>
        {
            var h = r.GetValueOrDefault<string>();
            if (string.IsNullOrWhiteSpace(h) || Uri.CheckHostName(h) == UriHostNameType.Unknown)
                r.AddError($"--host must be a host name or IP address, got '{h}'.");
        });
        var port = IntOption("--port", "TCP port (0 picks a free one).", 8080, 0, 65535);
        var maxBatch = IntOption("--max-batch-size", "Sequences decoded together (KV-cache slots).", 8, 1, 1024);
        var ctxSize = NullableIntOption("--ctx-size", "Context tokens per sequence (default: the model's; capped to it).", 1);
        var maxBody = NullableIntOption("--max-body-bytes", "Largest completions or chat request body (default: 128 bytes per context token, at least 8 MiB).", 1);
        var maxQueue = IntOption("--max-queue", "Sequences allowed to wait for a slot before requests get 429.", 64, 0, 1_000_000);
        var threads = NullableIntOption("--threads", "Compute threads (default: the engine's choice).", 1);
        var kvType = new Option<string>("--kv-cache-type") { Description = "KV cache element type: f32 or f16.", DefaultValueFactory = _ => ReplicaOptions.KvF32 };
        kvType.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (v is not (ReplicaOptions.KvF32 or ReplicaOptions.KvF16)) r.AddError($"--kv-cache-type must be f32 or f16, got '{v}'.");
        });
        var modelName = new Option<string?>("--model-name") { Description = "Model id served in responses and /v1/models (default: the file name)." };
        modelName.Validators.Add(r =>
        {
            if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string?>())) r.AddError("--model-name must not be empty.");
        });

        // The control plane names each replica process with this, so that after its own restart it can
        // tell its replicas from unrelated processes by their command line.
        var replicaId = new Option<string?>("--replica-id") { Description = "Identity given by the control plane (not used by the replica itself)." };

        var lora = new Option<string[]>("--lora")
        {
            Description = "LoRA adapter to serve as its own model: name=path[:scale] (GGUF file or PEFT folder; repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        lora.Validators.Add(r =>
        {
            foreach (var v in r.GetValueOrDefault<string[]>() ?? [])
            {
                try
                {
                    AdapterSpec.Parse(v);
                }
                catch (FormatException e)
                {
                    r.AddError($"--lora: {e.Message}.");
                }
            }
        });

        var command = new Command("replica", "Serve one model over the OpenAI-compatible HTTP API.")
        {
            model, host, port, maxBatch, ctxSize, maxBody, maxQueue, threads, kvType, modelName, replicaId, lora,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new ReplicaOptions
            {
                ModelPath = parse.GetRequiredValue(model),
                Host = parse.GetRequiredValue(host),
                Port = parse.GetValue(port),
                MaxBatchSize = parse.GetValue(maxBatch),
                ContextSize = parse.GetValue(ctxSize),
                MaxQueue = parse.GetValue(maxQueue),
                MaxBodyBytes = parse.GetValue(maxBody),
                Threads = parse.GetValue(threads),
                KvCacheType = parse.GetRequiredValue(kvType),
                ModelName = parse.GetValue(modelName),
                Adapters = [.. (parse.GetValue(lora) ?? []).Select(AdapterSpec.Parse)],
            };
            return await ReplicaHost.RunAsync(options, loadModel, cancellationToken);
        });
        return command;
    }

    private static Option<int> IntOption(string name, string description, int fallback, int min, int max)
    {
        return new Option<int>(name)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r => ParseInt(r, name, min, max) ?? fallback,
        };
    }

    private static Option<int?> NullableIntOption(string name, string description, int min)
    {
        return new Option<int?>(name) { Description = description, CustomParser = r => ParseInt(r, name, min, int.MaxValue) };
    }

    // A custom parser rather than a validator, so "abc" and out-of-range values both get a message naming the flag.
    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            r.AddError($"{name} must be an integer, got '{text}'.");
            return null;
        }
        if (value < min || value > max)
        {
            r.AddError(max == int.MaxValue ? $"{name} must be at least {min}, got {value}." : $"{name} must be between {min} and {max}, got {value}.");
            return null;
        }
        return value;
    }
}
