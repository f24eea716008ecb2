namespace Kiln.Core.Engines;

/// <summary>
/// The built-in engine profiles. Flags and metric names follow each engine's documentation (vLLM
/// <c>vllm serve</c>, SGLang <c>python3 -m sglang.launch_server</c>, llama.cpp <c>llama-server</c>);
/// names that moved between versions are listed old and new.
/// </summary>
public static class EngineProfiles
{
    /// <summary>Kiln's own CPU engine, the default.</summary>
    public const string KilnName = "kiln";
    /// <summary>vLLM.</summary>
    public const string VllmName = "vllm";
    /// <summary>SGLang.</summary>
    public const string SglangName = "sglang";
    /// <summary>llama.cpp's server.</summary>
    public const string LlamaServerName = "llama-server";

    /// <summary>Kiln's replica (<c>kiln replica</c>): GGUF, its own metrics and adapter API.</summary>
    public static EngineProfile Kiln { get; } = new()
    {
        Name = KilnName,
        ModelFormats = [ModelFormat.Gguf],
        MaxBatch = 8,
        Metrics = new EngineMetricNames
        {
            Running = ["kiln_active_sequences"],
            Waiting = ["kiln_queue_depth"],
            BatchOccupancy = ["kiln_batch_occupancy"],
            GeneratedTokens = ["kiln_generated_tokens_total"],
            PromptTokens = ["kiln_prompt_tokens_total"],
        },
        Addons = AddonSupport.Kiln,
    };

    /// <summary>vLLM's OpenAI server.</summary>
    public static EngineProfile Vllm { get; } = new()
    {
        Name = VllmName,
        Command =
        [
            "vllm", "serve", "{model}", "--host", "{host}", "--port", "{port}", "--served-model-name", "{served_model_name}",
            "--tensor-parallel-size", "{world_size}", "--max-num-seqs", "{max_batch}", "--max-model-len", "{context}",
        ],
        AddonArguments = ["--enable-lora", "--max-loras", "16"],
        // vLLM refuses its load/unload endpoints unless this is set.
        AddonEnvironment = new Dictionary<string, string> { ["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] = "True" },
        HealthPath = "/health",
        ReadinessTimeout = TimeSpan.FromMinutes(20),
        ModelFormats = [ModelFormat.HfSafetensors],
        MaxBatch = 256,
        Metrics = new EngineMetricNames
        {
            Running = ["vllm:num_requests_running"],
            Waiting = ["vllm:num_requests_waiting"],
            KvCacheUsage = ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
            GeneratedTokens = ["vllm:generation_tokens_total"],
            PromptTokens = ["vllm:prompt_tokens_total"],
        },
        Addons = new AddonSupport(AddonProtocol.LoraEndpoints, "/v1/load_lora_adapter", "/v1/unload_lora_adapter", "/v1/models"),
    };

    /// <summary>SGLang's server (metrics need <c>--enable-metrics</c>).</summary>
    public static EngineProfile Sglang { get; } = new()
    {
        Name = SglangName,
        Command =
        [
            "python3", "-m", "sglang.launch_server", "--model-path", "{model}", "--host", "{host}", "--port", "{port}",
            "--served-model-name", "{served_model_name}", "--tp-size", "{world_size}", "--max-running-requests", "{max_batch}",
            "--context-length", "{context}", "--enable-metrics",
        ],
        AddonArguments = ["--enable-lora"],
        HealthPath = "/health",
        ReadinessTimeout = TimeSpan.FromMinutes(20),
        ModelFormats = [ModelFormat.HfSafetensors],
        MaxBatch = 256,
        Metrics = new EngineMetricNames
        {
            Running = ["sglang:num_running_reqs"],
            Waiting = ["sglang:num_queue_reqs"],
            KvCacheUsage = ["sglang:token_usage"],
            GeneratedTokens = ["sglang:generation_tokens_total"],
            PromptTokens = ["sglang:prompt_tokens_total"],
        },
        Addons = new AddonSupport(AddonProtocol.LoraEndpoints, "/load_lora_adapter", "/unload_lora_adapter", "/v1/models"),
    };

    /// <summary>llama.cpp's server: GGUF, every layer on the GPUs it sees, metrics on.</summary>
    public static EngineProfile LlamaServer { get; } = new()
    {
        Name = LlamaServerName,
        Command =
        [
            "llama-server", "--model", "{model}", "--host", "{host}", "--port", "{port}", "--alias", "{served_model_name}",
            "--parallel", "{max_batch}", "--n-gpu-layers", "999", "--metrics",
        ],
        HealthPath = "/health",
        ReadinessTimeout = TimeSpan.FromMinutes(20),
        ModelFormats = [ModelFormat.Gguf],
        MaxBatch = 8,
        Metrics = new EngineMetricNames
        {
            Running = ["llamacpp:requests_processing"],
            Waiting = ["llamacpp:requests_deferred"],
            KvCacheUsage = ["llamacpp:kv_cache_usage_ratio"],
            GeneratedTokens = ["llamacpp:tokens_predicted_total"],
            PromptTokens = ["llamacpp:prompt_tokens_total"],
        },
        Addons = AddonSupport.Unsupported(
            "llama.cpp's server loads LoRA adapters only when it starts (--lora); its /lora-adapters endpoint changes the scales of those, it cannot load new ones"),
    };

    /// <summary>The four built-in profiles.</summary>
    public static IReadOnlyList<EngineProfile> BuiltIn { get; } = [Kiln, Vllm, Sglang, LlamaServer];
}
