using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Kiln.ControlPlane.Tests;

/// <summary>
/// One server for the engine tests: <c>vllm</c>, <c>python3</c> and <c>llama-server</c> on its PATH
/// are the stand-in engine (so the built-in profiles run unchanged), and its <c>--config</c> adds
/// custom profiles: Kiln's own replica through a template, a command that exits at once, and an
/// engine whose health path never answers.
/// </summary>
public sealed class EngineFixture : IAsyncLifetime
{
    public string Scratch { get; } = Directory.CreateTempSubdirectory("kiln-engines-").FullName;
    public KilnServer Server { get; private set; } = null!;
    public Api Api { get; private set; } = null!;
    public Kilnctl Ctl { get; private set; } = null!;

    private static string Bin(string name) => Path.Combine(AppContext.BaseDirectory, name);

    /// <summary>
    /// Writes <c>vllm</c>, <c>python3</c> and <c>llama-server</c> into <paramref name="scratch"/>/bin, each
    /// running the stand-in engine in that engine's dialect, and answers a PATH that finds them first.
    /// </summary>
    public static string InstallStandIns(string scratch)
    {
        var shims = Directory.CreateDirectory(Path.Combine(scratch, "bin")).FullName;
        foreach (var program in new[] { "vllm", "python3", "llama-server" })
        {
            var shim = Path.Combine(shims, program);
            File.WriteAllText(shim, $"#!/bin/sh\nexec '{Bin("Kiln.StandInEngine")}' {program} \"$@\"\n");
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return $"{shims}:{Environment.GetEnvironmentVariable("PATH")}";
    }

    public async Task InitializeAsync()
    {
        var path = InstallStandIns(Scratch);
        var config = Path.Combine(Scratch, "kiln.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            engines = new Dictionary<string, object>
            {
                ["kiln-template"] = new
                {
                    command = new[] { Bin("kiln"), "replica", "--model", "{model}", "--host", "{host}", "--port", "{port}", "--max-batch-size", "{max_batch}", "--threads", "{world_size}", "--model-name", "{served_model_name}" },
                    modelFormats = new[] { "GGUF" },
                    maxBatch = 4,
                    addons = new { protocol = "kiln" },
                },
                ["exits-at-once"] = new
                {
                    command = new[] { "/bin/sh", "-c", "echo loading $0; echo 'fatal: no CUDA-capable device is detected' >&2; exit 3", "{model}" },
                    modelFormats = new[] { "GGUF" },
                },
                ["never-healthy"] = new
                {
                    command = new[] { "llama-server", "--model", "{model}", "--host", "{host}", "--port", "{port}" },
                    healthPath = "/never-ready",
                    readinessTimeout = "2s",
                    environment = new Dictionary<string, string> { ["HF_TOKEN"] = "hf-secret-value" },
                    modelFormats = new[] { "GGUF" },
                },
            },
        }));
        Server = await KilnServer.StartAsync(new Dictionary<string, string> { ["PATH"] = path },
            "--config", config, "--autoscale-interval", "250ms");
        Api = new Api(Server.BaseUri, Server.AdminKey);
        Ctl = new Kilnctl(Server.BaseUri, Server.AdminKey, Directory.CreateDirectory(Path.Combine(Scratch, "kilnctl")).FullName);
    }

    public Task DisposeAsync()
    {
        Api.Dispose();
        Server.Dispose();
        try { Directory.Delete(Scratch, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>A Hugging Face model folder: config.json and one safetensors file with one small tensor.</summary>
    public string HfModel(string name) => HfModel(Scratch, name);

    /// <summary>As <see cref="HfModel(string)"/>, in <paramref name="scratch"/>.</summary>
    public static string HfModel(string scratch, string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(scratch, name)).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"architectures": ["LlamaForCausalLM"], "torch_dtype": "bfloat16", "max_position_embeddings": 2048}""");
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{}");
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), Safetensors("model.embed_tokens.weight", [16, 8]));
        return folder;
    }

    /// <summary>A PEFT adapter folder for it.</summary>
    public string PeftAdapter(string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Scratch, name)).FullName;
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), """{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}""");
        File.WriteAllBytes(Path.Combine(folder, "adapter_model.safetensors"), Safetensors("base_model.model.layers.0.self_attn.q_proj.lora_A.weight", [2, 8]));
        return folder;
    }

    private static byte[] Safetensors(string tensor, int[] shape)
    {
        var bytes = shape.Aggregate(1, (a, b) => a * b) * 2;
        var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            [tensor] = new { dtype = "BF16", shape, data_offsets = new[] { 0, bytes } },
        }));
        var file = new byte[8 + header.Length + bytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        return file;
    }
}
