using System.Globalization;

namespace Kiln.StandInEngine;

/// <summary>Which engine's command line the stand-in was started with.</summary>
public enum Dialect
{
    Vllm,
    Sglang,
    LlamaServer,
}

/// <summary>
/// The flags Kiln's built-in profiles pass to vLLM (<c>vllm serve MODEL ...</c>), SGLang
/// (<c>python3 -m sglang.launch_server ...</c>) and llama.cpp's server (<c>llama-server ...</c>),
/// parsed and checked the way each engine would: an unknown flag, a missing value or a value of the
/// wrong type ends the process with a message and exit code 2, as argparse does.
/// </summary>
public sealed record EngineCommandLine(Dialect Dialect, string Model, string Host, int Port, string ServedModelName, int WorldSize, int MaxBatch, int? Context, bool Lora)
{
    private sealed record Spec(string[] Valued, string[] Switches, string ModelFlag, string PortFlag, string NameFlag, string? WorldFlag, string BatchFlag, string ContextFlag, string LoraFlag);

    private static readonly Dictionary<Dialect, Spec> Specs = new()
    {
        [Dialect.Vllm] = new(
            ["--host", "--port", "--served-model-name", "--tensor-parallel-size", "--max-num-seqs", "--max-model-len", "--max-loras", "--max-lora-rank", "--gpu-memory-utilization", "--dtype"],
            ["--enable-lora", "--enforce-eager", "--trust-remote-code"],
            "", "--port", "--served-model-name", "--tensor-parallel-size", "--max-num-seqs", "--max-model-len", "--enable-lora"),
        [Dialect.Sglang] = new(
            ["--model-path", "--host", "--port", "--served-model-name", "--tp-size", "--max-running-requests", "--context-length", "--mem-fraction-static", "--max-lora-rank"],
            ["--enable-metrics", "--enable-lora", "--trust-remote-code"],
            "--model-path", "--port", "--served-model-name", "--tp-size", "--max-running-requests", "--context-length", "--enable-lora"),
        [Dialect.LlamaServer] = new(
            ["--model", "--host", "--port", "--alias", "--parallel", "--n-gpu-layers", "--ctx-size"],
            ["--metrics"],
            "--model", "--port", "--alias", null, "--parallel", "--ctx-size", "--lora-never"),
    };

    private static readonly string[] IntegerFlags =
    [
        "--port", "--tensor-parallel-size", "--max-num-seqs", "--max-model-len", "--max-loras", "--max-lora-rank", "--tp-size",
        "--max-running-requests", "--context-length", "--parallel", "--n-gpu-layers", "--ctx-size",
    ];

    /// <summary>The parsed command line, or the error each engine would print.</summary>
    public static EngineCommandLine Parse(string[] argv)
    {
        if (argv.Length == 0)
        {
            throw new FormatException("usage: Kiln.StandInEngine vllm|python3|llama-server ...");
        }
        var (dialect, rest, prefix) = argv[0] switch
        {
            "vllm" when argv.Length > 1 && argv[1] == "serve" => (Dialect.Vllm, argv[2..], "vllm serve"),
            "python3" or "python" when argv.Length > 2 && argv[1] == "-m" && argv[2] == "sglang.launch_server" => (Dialect.Sglang, argv[3..], "launch_server.py"),
            "llama-server" => (Dialect.LlamaServer, argv[1..], "llama-server"),
            _ => throw new FormatException($"unsupported command: {string.Join(' ', argv.Take(3))}"),
        };
        var spec = Specs[dialect];
        var values = new Dictionary<string, string>();
        var switches = new HashSet<string>();
        string? positional = null;
        for (var i = 0; i < rest.Length; i++)
        {
            var a = rest[i];
            if (spec.Switches.Contains(a))
            {
                switches.Add(a);
            }
            else if (spec.Valued.Contains(a))
            {
                if (i + 1 >= rest.Length)
                {
                    throw new FormatException($"{prefix}: error: argument {a}: expected one argument");
                }
                values[a] = rest[++i];
            }
            else if (!a.StartsWith('-') && positional is null && dialect == Dialect.Vllm)
            {
                positional = a;
            }
            else
            {
                throw new FormatException($"{prefix}: error: unrecognized arguments: {a}");
            }
        }
        foreach (var (flag, value) in values.Where(v => IntegerFlags.Contains(v.Key)))
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < (flag == "--n-gpu-layers" ? 0 : 1))
            {
                throw new FormatException($"{prefix}: error: argument {flag}: invalid int value: '{value}'");
            }
        }
        var model = dialect == Dialect.Vllm ? positional : values.GetValueOrDefault(spec.ModelFlag);
        if (model is null)
        {
            throw new FormatException($"{prefix}: error: the model path is required");
        }
        if (!values.TryGetValue(spec.PortFlag, out var port))
        {
            throw new FormatException($"{prefix}: error: {spec.PortFlag} is required here (the stand-in has no default port)");
        }
        int? Int(string? flag) => flag is not null && values.TryGetValue(flag, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        return new EngineCommandLine(dialect, model, values.GetValueOrDefault("--host", "127.0.0.1"), int.Parse(port, CultureInfo.InvariantCulture),
            values.GetValueOrDefault(spec.NameFlag) ?? model, Int(spec.WorldFlag) ?? 1, Int(spec.BatchFlag) ?? 256, Int(spec.ContextFlag), switches.Contains(spec.LoraFlag));
    }

    /// <summary>Why the model cannot be served by this engine, or null: a folder with config.json for vLLM and SGLang, a GGUF file for llama-server.</summary>
    public string? ModelProblem()
    {
        if (Dialect == Dialect.LlamaServer)
        {
            if (!File.Exists(Model))
            {
                return $"failed to open GGUF file '{Model}'";
            }
            using var f = File.OpenRead(Model);
            var magic = new byte[4];
            return f.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("GGUF"u8.ToArray()) ? null : $"'{Model}' is not a GGUF file";
        }
        return File.Exists(Path.Combine(Model, "config.json")) && Directory.EnumerateFiles(Model, "*.safetensors").Any()
            ? null
            : $"'{Model}' is not a Hugging Face model folder (config.json and *.safetensors)";
    }
}
