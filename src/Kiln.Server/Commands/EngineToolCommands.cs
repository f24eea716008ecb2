using Kiln.Server.Benchmarks;
using System.CommandLine;
using Kiln.Bench;
using Kiln.Core.Deployments;
using Kiln.Core.Replicas;
using Kiln.Engine.Models;
using Kiln.Engine.Quantization;
using Kiln.Server.Replica;

namespace Kiln.Server.Commands;

/// <summary>The engine's offline tools: quantize, generate-model and bench.</summary>
public static class EngineToolCommands
{
    public static Command Quantize()
    {
        var input = new Argument<string>("input") { Description = "GGUF model to read" };
        var output = new Argument<string>("output") { Description = "GGUF file to write" };
        var type = new Option<string>("--type") { Description = $"target type: {string.Join("|", QuantTypes.Names)}", Required = true };
        type.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (v is not null && QuantTypes.Parse(v) is null)
                r.AddError($"--type: unknown type '{v}' (allowed: {string.Join(", ", QuantTypes.Names)})");
        });
        var verbose = new Option<bool>("--verbose") { Description = "print every tensor's conversion" };
        var cmd = new Command("quantize", "re-encode a model's weight matrices to another type") { input, output, type, verbose };
        cmd.SetAction(r =>
        {
            var target = QuantTypes.Parse(r.GetValue(type)!)!.Value;
            var result = Quantizer.Run(r.GetValue(input)!, r.GetValue(output)!, target,
                r.GetValue(verbose) ? Console.WriteLine : null);
            var types = string.Join(", ", result.TypeCounts.Select(kv => $"{kv.Value} {kv.Key}"));
            Console.WriteLine($"wrote {r.GetValue(output)}: {result.Quantized} tensors converted, {result.KeptAsIs} kept ({types})");
            return 0;
        });
        return cmd;
    }

    public static Command GenerateModel()
    {
        var preset = new Option<string>("--preset") { Description = $"model shape: {string.Join("|", ModelShape.Presets.Keys)}", Required = true };
        preset.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (v is not null && !ModelShape.Presets.ContainsKey(v))
                r.AddError($"--preset: unknown preset '{v}' (allowed: {string.Join(", ", ModelShape.Presets.Keys)})");
        });
        var vocab = new Option<string>("--vocab") { Description = "GGUF file whose tokenizer the model copies", Required = true };
        var type = new Option<string>("--type") { Description = "weight type", DefaultValueFactory = _ => "q8_0" };
        type.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (v is not null && QuantTypes.Parse(v) is null)
                r.AddError($"--type: unknown type '{v}' (allowed: {string.Join(", ", QuantTypes.Names)})");
        });
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--output", "-o") { Description = "GGUF file to write", Required = true };
        var context = new Option<int?>("--ctx-size") { Description = "context length written into the model (default: the preset's)" };
        context.Validators.Add(r =>
        {
            if (r.TryGetValue<int?>(out var v) && v is < 1) r.AddError("--ctx-size must be a positive integer");
        });
        var outputNorm = new Option<float>("--output-norm")
        {
            Description = "weight of the output norm: the logits spread that many times wider (at 1 the next-token distributions are nearly flat; about 15 makes them as peaked as a trained model's)",
            DefaultValueFactory = _ => 1f,
        };
        outputNorm.Validators.Add(r =>
        {
            if (r.TryGetValue<float>(out var v) && (!(v > 0f) || !float.IsFinite(v))) r.AddError($"--output-norm must be a positive number, got {v}");
        });
        var cmd = new Command("generate-model", "write a synthetic model of a real shape with seeded N(0, 0.02) weights")
        {
            preset, vocab, type, seed, output, context, outputNorm,
        };
        cmd.SetAction(r =>
        {
            var shape = ModelShape.Presets[r.GetValue(preset)!];
            if (r.GetValue(context) is { } ctx) shape = shape with { Context = ctx };
            SyntheticModel.Write(shape, r.GetValue(vocab)!, QuantTypes.Parse(r.GetValue(type)!)!.Value, r.GetValue(output)!, r.GetValue(seed), r.GetValue(outputNorm));
            Console.WriteLine($"wrote {r.GetValue(output)} ({new FileInfo(r.GetValue(output)!).Length / 1e6:F1} MB)");
            return 0;
        });
        return cmd;
    }

    public static Command Bench()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model", Required = true };
        var threads = Positive("--threads", "worker threads", 2, "-t");
        var prompt = Positive("-p", "prompt tokens", 128, "--n-prompt");
        var generate = Positive("-n", "generated tokens", 128, "--n-gen");
        var reps = Positive("--repetitions", "measured runs (median reported)", 5, "-r");
        var seqs = Positive("--sequences", "sequences decoded together for the batched figure (1 skips it)", 8);
        var kv = KvCacheOption();
        var engine = new Command("engine", "prompt-processing and generation speed of the engine on one model")
        {
            model, threads, prompt, generate, reps, seqs, kv,
        };
        engine.SetAction(r => EngineBench.Run(new EngineBenchOptions
        {
            ModelPath = r.GetValue(model)!,
            Threads = r.GetValue(threads),
            PromptTokens = r.GetValue(prompt),
            GenerateTokens = r.GetValue(generate),
            Repetitions = r.GetValue(reps),
            Sequences = r.GetValue(seqs),
            KvCacheType = KvCacheTypeOf(r.GetValue(kv)!),
        }, Console.Out));
        return new Command("bench", "benchmarks that print figures")
        {
            engine, Serve(), Sampling(), SpeculationBenchCommand(), GatewayBenchCommand(), ColdStartBenchCommand(), ControlPlaneBenchCommand(), SimulatedReplicasCommand(), PrefixBenchCommand(), ChatBenchCommand(),
        };
    }

    private static Command SpeculationBenchCommand()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model (the target)", Required = true };
        var draft = new Option<string?>("--draft-model") { Description = "a draft model over the same vocabulary (adds the draft-model figure)" };
        var prompt = new Option<string>("--prompt") { Description = "the workload's prompt (default: a passage repeated, as editing a given text repeats it)", DefaultValueFactory = _ => SpeculationBenchOptions.DefaultPrompt };
        var threads = Positive("--threads", "worker threads", 2, "-t");
        var streams = Positive("--streams", "concurrent streams", 1);
        var tokens = Positive("-n", "tokens each stream generates", 128, "--n-gen");
        var draftTokens = Positive("--draft-tokens", "tokens proposed per step", 4);
        var ngram = Positive("--ngram", "n-gram length of n-gram speculation", 3);
        var reps = Positive("--repetitions", "timed rounds per mode (median reported)", 3, "-r");
        var kv = KvCacheOption();
        var cmd = new Command("speculation", "tokens/s with n-gram and draft-model speculative decoding against none, with acceptance rates")
        {
            model, draft, prompt, threads, streams, tokens, draftTokens, ngram, reps, kv,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(draftTokens) > Speculation.MaxDraftTokens) r.AddError($"--draft-tokens must be at most {Speculation.MaxDraftTokens}");
            if (r.GetValue(ngram) > Speculation.MaxNgramLength) r.AddError($"--ngram must be at most {Speculation.MaxNgramLength}");
        });
        cmd.SetAction(r => SpeculationBench.Run(new SpeculationBenchOptions
        {
            ModelPath = r.GetValue(model)!,
            DraftModelPath = r.GetValue(draft),
            Prompt = r.GetValue(prompt)!,
            Threads = r.GetValue(threads),
            Streams = r.GetValue(streams),
            GenerateTokens = r.GetValue(tokens),
            DraftTokens = r.GetValue(draftTokens),
            NgramLength = r.GetValue(ngram),
            Repetitions = r.GetValue(reps),
            KvCacheType = KvCacheTypeOf(r.GetValue(kv)!),
        }, Console.Out));
        return cmd;
    }

    private static Command GatewayBenchCommand()
    {
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model to deploy on a server this command starts" };
        var server = new Option<string?>("--server") { Description = "A running kiln server instead (with --api-key and --deployment)" };
        var apiKey = new Option<string?>("--api-key") { Description = "API key for --server" };
        var deployment = new Option<string?>("--deployment") { Description = "accounts/<A>/deployments/<D> on --server" };
        var requests = Positive("--requests", "timed requests per path (direct and gateway)", 500);
        var clients = Positive("--concurrency", "concurrent clients for the throughput figure", 64);
        var seconds = Positive("--seconds", "duration of each throughput run", 5);
        var cmd = new Command("gateway", "latency the gateway adds over calling a replica directly, and requests/s through it")
        {
            model, server, apiKey, deployment, requests, clients, seconds,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(server) is null && r.GetValue(model) is null) r.AddError("give --model (start a server) or --server with --api-key and --deployment");
            if (r.GetValue(server) is not null && (r.GetValue(apiKey) is null || r.GetValue(deployment) is null)) r.AddError("--server needs --api-key and --deployment");
        });
        cmd.SetAction((r, _) => GatewayBench.RunAsync(new GatewayBenchOptions
        {
            Kiln = Environment.ProcessPath!,
            ModelPath = r.GetValue(model),
            Server = r.GetValue(server) is { } s ? new Uri(s.TrimEnd('/') + "/") : null,
            ApiKey = r.GetValue(apiKey),
            Deployment = r.GetValue(deployment),
            Requests = r.GetValue(requests),
            Concurrency = r.GetValue(clients),
            Duration = TimeSpan.FromSeconds(r.GetValue(seconds)),
        }, Console.Out));
        return cmd;
    }

    private static Command PrefixBenchCommand()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model (context at least prefix + 32)", Required = true };
        var threads = Positive("--threads", "worker threads", 2, "-t");
        var prefix = Positive("--prefix", "tokens of the shared prefix", 1000);
        var reps = Positive("--repetitions", "measured requests each way (median reported)", 5, "-r");
        var kv = KvCacheOption();
        var cmd = new Command("prefix", "time to first token of a prompt whose prefix is in the prefix cache against one whose prefix is not")
        {
            model, threads, prefix, reps, kv,
        };
        cmd.SetAction(r => PrefixBench.Run(new PrefixBenchOptions
        {
            ModelPath = r.GetValue(model)!,
            Threads = r.GetValue(threads),
            PrefixTokens = r.GetValue(prefix),
            Repetitions = r.GetValue(reps),
            KvCacheType = KvCacheTypeOf(r.GetValue(kv)!),
        }, Console.Out));
        return cmd;
    }

    private static Command ChatBenchCommand()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model to deploy", Required = true };
        var users = Positive("--users", "concurrent conversations", 8);
        var turns = Positive("--turns", "turns per conversation", 4);
        var system = Positive("--system-chars", "characters of the system prompt every conversation shares", 1500);
        var tokens = Positive("-n", "tokens each answer generates", 32, "--n-gen");
        var cmd = new Command("chat", "multi-turn chats sharing a system prompt through the gateway to 2 replicas: prefix routing against least outstanding")
        {
            model, users, turns, system, tokens,
        };
        cmd.SetAction((r, _) => ChatBench.RunAsync(new ChatBenchOptions
        {
            Kiln = Environment.ProcessPath!,
            ModelPath = r.GetValue(model)!,
            Users = r.GetValue(users),
            Turns = r.GetValue(turns),
            SystemChars = r.GetValue(system),
            AnswerTokens = r.GetValue(tokens),
        }, Console.Out));
        return cmd;
    }

    private static Command ControlPlaneBenchCommand()
    {
        var sizes = new Option<string>("--deployments") { Description = "comma-separated deployment counts, one run each", DefaultValueFactory = _ => "10,100,1000,10000" };
        var replicas = Positive("--replicas", "replicas per deployment", 3);
        var passes = Positive("--passes", "timed steady-state passes per figure (median reported)", 5);
        var store = new Option<string?>("--store") { Description = "a PostgreSQL server (connection string or postgres:// URL) to run on, in a scratch database per size; SQLite by default" };
        sizes.Validators.Add(r =>
        {
            if (ParseSizes(r.GetValueOrDefault<string>()) is null) r.AddError("--deployments must be positive integers separated by commas, e.g. 10,100,1000");
        });
        var cmd = new Command("control-plane", "time of the reconciler's, the autoscaler's and the routing table's passes over many deployments (simulated replicas)")
        {
            sizes, replicas, passes, store,
        };
        cmd.SetAction((r, _) => ControlPlaneBench.RunAsync(new ControlPlaneBenchOptions
        {
            Deployments = ParseSizes(r.GetValue(sizes))!,
            Replicas = r.GetValue(replicas),
            Passes = r.GetValue(passes),
            Postgres = r.GetValue(store),
        }, Console.Out));
        return cmd;
    }

    // The control-plane bench's replicas, in a process of their own; not for users.
    private static Command SimulatedReplicasCommand()
    {
        var cmd = new Command("simulated-replicas", "serves simulated replicas' /health and /metrics for kiln bench control-plane") { Hidden = true };
        cmd.SetAction((_, _) => SimulatedReplicas.ServeAsync(Console.In, Console.Out));
        return cmd;
    }

    private static int[]? ParseSizes(string? text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
            {
                return null;
            }
        }
        return sizes;
    }

    private static Command ColdStartBenchCommand()
    {
        var models = new Argument<string[]>("MODEL") { Description = "GGUF models to measure", Arity = ArgumentArity.OneOrMore };
        var reps = Positive("--repetitions", "cold starts per model (each printed, median reported)", 3, "-r");
        var clients = Positive("--clients", "concurrent clients of the first and the warm burst", 8);
        var tokens = Positive("-n", "tokens each burst client generates", 64, "--n-gen");
        var threads = Positive("--threads", "CPU threads of the replica", 2, "-t");
        var stream = new Option<bool>("--stream") { Description = "bursts of streamed completions, so each request's first byte is its first token" };
        var cmd = new Command("coldstart", "time from a request at zero replicas to its first token, and the first burst's speed against a warm one")
        {
            models, reps, clients, tokens, threads, stream,
        };
        cmd.SetAction((r, _) => ColdStartBench.RunAsync(new ColdStartBenchOptions
        {
            Kiln = Environment.ProcessPath!,
            ModelPaths = r.GetValue(models)!,
            Repetitions = r.GetValue(reps),
            BurstClients = r.GetValue(clients),
            BurstTokens = r.GetValue(tokens),
            Threads = r.GetValue(threads),
            Stream = r.GetValue(stream),
        }, Console.Out));
        return cmd;
    }

    private static Command Serve()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model", Required = true };
        var threads = Positive("--threads", "worker threads", 2, "-t");
        var streams = Positive("--streams", "concurrent streams", 8);
        var adapters = Positive("--adapters", "synthetic adapters the streams are spread over", 4);
        var rank = Positive("--rank", "rank of the synthetic adapters", 8);
        var lora = new Option<string[]>("--lora") { Description = "adapter files or PEFT folders to use instead of synthetic ones (repeatable)" };
        var prompt = Positive("-p", "prompt tokens per stream", 32, "--n-prompt");
        var generate = Positive("-n", "generated tokens per stream", 128, "--n-gen");
        var reps = Positive("--repetitions", "measured runs (best reported)", 3, "-r");
        var kv = KvCacheOption();
        var http = new Option<bool>("--http") { Description = "run the streams as OpenAI clients of a kiln replica process, beside the in-process figure" };
        var serve = new Command("serve", "aggregate tokens/s of concurrent streams spread over LoRA adapters vs on the base model, or over HTTP (--http)")
        {
            model, threads, streams, adapters, rank, lora, prompt, generate, reps, kv, http,
        };
        serve.SetAction((r, _) =>
        {
            var options = new ServeBenchOptions
            {
                ModelPath = r.GetValue(model)!,
                Threads = r.GetValue(threads),
                Streams = r.GetValue(streams),
                Adapters = r.GetValue(adapters),
                Rank = r.GetValue(rank),
                LoraPaths = r.GetValue(lora) ?? [],
                PromptTokens = r.GetValue(prompt),
                GenerateTokens = r.GetValue(generate),
                Repetitions = r.GetValue(reps),
                KvCacheType = KvCacheTypeOf(r.GetValue(kv)!),
            };
            return r.GetValue(http) ? HttpServeBench.RunAsync(HttpServeBenchFrom(options, r.GetValue(kv)!), Console.Out) : Task.FromResult(ServeBench.Run(options, Console.Out));
        });
        return serve;

        static HttpServeBenchOptions HttpServeBenchFrom(ServeBenchOptions o, string kvCacheName)
        {
            var replica = new ReplicaArgs
            {
                ModelPath = o.ModelPath,
                MaxBatchSize = o.Streams,
                ContextSize = o.PromptTokens + o.GenerateTokens, // as the in-process model's
                WorldSize = o.Threads,
                KvCache = ReplicaArgs.TryParseKvCacheType(kvCacheName, out var precision) ? precision : Precision.Fp16,
                ModelName = "bench",
            };
            return new HttpServeBenchOptions
            {
                Serve = o,
                Kiln = Environment.ProcessPath!,
                ReplicaArguments = port => (replica with { Port = port }).Format(),
            };
        }
    }

    private static Command Sampling()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model", Required = true };
        var threads = Positive("--threads", "worker threads", 2, "-t");
        var streams = Positive("--streams", "concurrent streams", 8);
        var prompt = Positive("-p", "prompt tokens per stream", 32, "--n-prompt");
        var generate = Positive("-n", "generated tokens per stream", 128, "--n-gen");
        var reps = Positive("--repetitions", "measured rounds (median reported)", 5, "-r");
        var kv = KvCacheOption();
        var samplerOnly = new Option<bool>("--sampler-only") { Description = "only the sampler by itself per call (flat and peaked logits), not the streams" };
        var cmd = new Command("sampling", "aggregate tokens/s of concurrent streams sampling (temperature, top_p, min_p, top_k) vs greedy")
        {
            model, threads, streams, prompt, generate, reps, kv, samplerOnly,
        };
        cmd.SetAction(r => SamplingBench.Run(new SamplingBenchOptions
        {
            ModelPath = r.GetValue(model)!,
            Threads = r.GetValue(threads),
            Streams = r.GetValue(streams),
            PromptTokens = r.GetValue(prompt),
            GenerateTokens = r.GetValue(generate),
            Repetitions = r.GetValue(reps),
            KvCacheType = KvCacheTypeOf(r.GetValue(kv)!),
            SamplerOnly = r.GetValue(samplerOnly),
        }, Console.Out));
        return cmd;
    }

    /// <summary>The benchmarks' KV cache type, F16 by default as llama.cpp's benchmarks use.</summary>
    private static Option<string> KvCacheOption()
    {
        var kv = new Option<string>("--kv-cache-type") { Description = "f16|f32 (f16, as llama-bench and llama-server use by default)", DefaultValueFactory = _ => ReplicaArgs.KvCacheTypeName(Precision.Fp16) };
        kv.AcceptOnlyFromAmong([.. ReplicaArgs.KvCacheTypeNames]);
        return kv;
    }

    private static KvCacheType KvCacheTypeOf(string name)
        => ReplicaOptions.KvCacheTypeOf(ReplicaArgs.TryParseKvCacheType(name, out var precision) ? precision : throw new ArgumentException($"unknown KV cache type '{name}'", nameof(name)));

    private static Option<int> Positive(string name, string description, int fallback, params string[] aliases)
    {
        var o = new Option<int>(name, aliases) { Description = description, DefaultValueFactory = _ => fallback };
        o.Validators.Add(r =>
        {
            if (r.TryGetValue<int>(out var v) && v < 1) r.AddError($"{name} must be a positive integer");
        });
        return o;
    }
}
