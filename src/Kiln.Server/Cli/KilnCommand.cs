using System.CommandLine;
using System.CommandLine.Parsing;
using Kiln.Core.Replicas;
using Kiln.Core.Time;
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
        // ReplicaArgs parses and checks the flags (the runtime formats the same command line); the
        // options here give the help text, and the validator below adds the checks that need the
        // file system or the server's adapter format.
        var model = new Option<string>(ReplicaArgs.Flags.Model) { Description = $"GGUF model file to serve (with {ReplicaArgs.Flags.ModelUrl}: where the node's cache keeps it, by default)." };
        var defaults = new ReplicaArgs { ModelPath = "" };
        var host = Flag(ReplicaArgs.Flags.Host, "Address to listen on.", defaults.Host);
        var port = Flag(ReplicaArgs.Flags.Port, "TCP port (0 picks a free one).", Int(defaults.Port));
        var maxBatch = Flag(ReplicaArgs.Flags.MaxBatchSize, "Sequences decoded together (KV-cache slots).", Int(defaults.MaxBatchSize));
        var ctxSize = Flag(ReplicaArgs.Flags.ContextSize, "Context tokens per sequence (default: the model's; capped to it).");
        var maxQueue = Flag(ReplicaArgs.Flags.MaxQueue, "Sequences allowed to wait for a slot before requests get 429.", Int(defaults.MaxQueue));
        var threads = Flag(ReplicaArgs.Flags.WorldSize, "Compute threads (default: the engine's choice).");
        var kvType = Flag(ReplicaArgs.Flags.KvCache, $"KV cache element type: {string.Join(" or ", ReplicaArgs.KvCacheTypeNames)}.", ReplicaArgs.KvCacheTypeName(defaults.KvCache));
        var prefixCache = Flag(ReplicaArgs.Flags.PrefixCacheMb, "MiB of prompt KV kept for reuse by later prompts that start the same way (0 turns prefix caching off).", Int(defaults.PrefixCacheMb));
        var modelName = Flag(ReplicaArgs.Flags.ModelName, "Model id served in responses and /v1/models (default: the file name).");
        // A limit of the replica's own (the runtime leaves it at its default), so not a ReplicaArgs flag.
        var maxBody = Flag("--max-body-bytes", "Largest completions or chat request body (default: 128 bytes per context token, at least 8 MiB).");
        var warmup = Flag("--warmup", "Longest warm-up before the replica reports ready, compiling its hot paths (a Go duration; 0 skips it).",
            GoDuration.Format(ReplicaOptions.DefaultWarmupBudget));

        // The control plane names each replica process with this, so that after its own restart it can
        // tell its replicas from unrelated processes by their command line.
        var replicaId = Flag(ReplicaArgs.Flags.ReplicaId, "Identity given by the control plane (not used by the replica itself).");

        var modelUrl = Flag(ReplicaArgs.Flags.ModelUrl, $"Download the model from this URL into the node's cache first (bearer token in ${ReplicaArgs.ModelTokenVariable}).");
        var modelSha = Flag(ReplicaArgs.Flags.ModelSha256, "The model file's SHA-256 (lowercase hex): its key in the cache, checked after the download.");
        var modelCache = Flag(ReplicaArgs.Flags.ModelCache, "The node's model cache, shared by its replicas (absolute path).");
        var cacheMax = Flag(ReplicaArgs.Flags.ModelCacheMaxBytes, "Prune the cache to this many bytes after a download, least recently used first, never a file in use.");
        var endpointFile = Flag(ReplicaArgs.Flags.EndpointFile, "File to write host:port into once listening (with --port 0, how a cluster runtime learns the port).");

        var draftModel = Flag(ReplicaArgs.Flags.DraftModel, "Speculative decoding: a GGUF model over the same vocabulary proposing tokens the model verifies.");
        var draftTokens = Flag(ReplicaArgs.Flags.DraftTokens, $"Speculative decoding: tokens proposed per step, 1-{Core.Deployments.Speculation.MaxDraftTokens} (with {ReplicaArgs.Flags.DraftModel} or {ReplicaArgs.Flags.NgramSpeculation}).");
        var ngram = Flag(ReplicaArgs.Flags.NgramSpeculation, "Speculative decoding by prompt lookup: the n-gram length matched in the prompt and output.");

        var lora = new Option<string[]>(ReplicaArgs.Flags.Adapters)
        {
            Description = "LoRA adapter to serve as its own model: name=path[:scale] (GGUF file or PEFT folder; repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };

        var command = new Command(ReplicaArgs.Verb, "Serve one model over the OpenAI-compatible HTTP API.")
        {
            model, host, port, maxBatch, ctxSize, maxBody, warmup, maxQueue, threads, kvType, prefixCache, modelName, replicaId, lora, endpointFile,
            modelUrl, modelSha, modelCache, cacheMax, draftModel, draftTokens, ngram,
        };
        command.Validators.Add(r =>
        {
            if (!ReplicaArgs.TryParse(ReplicaArgv(r), out _, out var errors))
            {
                foreach (var e in errors)
                {
                    r.AddError(e.Message);
                }
            }
            // One validator for the whole command: System.CommandLine skips option validators once the command has errors.
            // A downloading replica's file need not exist yet.
            var path = r.GetValue(model);
            if (!string.IsNullOrWhiteSpace(path) && r.GetValue(modelUrl) is null && !File.Exists(path)) r.AddError($"{ReplicaArgs.Flags.Model}: file not found: {path}");
            if (r.GetValue(draftModel) is { } draft && !string.IsNullOrWhiteSpace(draft) && !File.Exists(draft)) r.AddError($"{ReplicaArgs.Flags.DraftModel}: file not found: {draft}");
            if (r.GetValue(maxBody) is { } body && MaxBodyBytes(body) is null)
            {
                r.AddError($"--max-body-bytes must be a whole number of bytes >= 1, got '{body}'.");
            }
            if (r.GetResult(warmup) is { Implicit: false } && !GoDuration.TryParseNonNegative(r.GetValue(warmup), out _, out var warmupError))
            {
                r.AddError($"--warmup: {warmupError}");
            }
            foreach (var v in r.GetValue(lora) ?? [])
            {
                try
                {
                    AdapterSpec.Parse(v);
                }
                catch (FormatException e)
                {
                    r.AddError($"{ReplicaArgs.Flags.Adapters}: {e.Message}.");
                }
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = ReplicaOptions.From(ReplicaArgs.Parse(ReplicaArgv(parse.CommandResult))) with
            {
                MaxBodyBytes = parse.GetValue(maxBody) is { } body ? MaxBodyBytes(body) : null,
                WarmupBudget = GoDuration.Parse(parse.GetValue(warmup)!),
                ModelToken = Environment.GetEnvironmentVariable(ReplicaArgs.ModelTokenVariable) is { Length: > 0 } token ? token : null,
            };
            return await ReplicaHost.RunAsync(options, loadModel, cancellationToken);
        });
        return command;
    }

    private static Option<string> Flag(string name, string description, string fallback)
        => new(name) { Description = description, DefaultValueFactory = _ => fallback };

    private static Option<string?> Flag(string name, string description) => new(name) { Description = description };

    private static int? MaxBodyBytes(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : null;

    private static string Int(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The replica flags given on the command line, as <see cref="ReplicaArgs.Parse"/> reads them.</summary>
    private static List<string> ReplicaArgv(CommandResult command)
    {
        var argv = new List<string> { ReplicaArgs.Verb };
        foreach (var o in command.Children.OfType<OptionResult>())
        {
            if (o.Implicit || !ReplicaArgs.Flags.All.Contains(o.Option.Name))
            {
                continue;
            }
            foreach (var token in o.Tokens)
            {
                argv.AddRange([o.Option.Name, token.Value]);
            }
        }
        return argv;
    }
}
