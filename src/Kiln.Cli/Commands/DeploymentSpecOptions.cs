using System.CommandLine;

namespace Kiln.Cli.Commands;

/// <summary>
/// The deployment spec flags shared by create and update. Values stay strings here so that
/// <see cref="DeploymentSpec"/> can word every error itself; a fresh set is made per command.
/// </summary>
public sealed class DeploymentSpecOptions
{
    public Option<string?> DisplayName { get; } = new("--display-name") { Description = "Human-readable name", HelpName = "NAME" };

    public Option<string?> Description { get; } = new("--description") { Description = "Free-text description", HelpName = "TEXT" };

    public Option<string?> LoadTargets { get; } = new("--load-targets")
    {
        Description = "Autoscaling load targets, key=value,... (default=0.8; also tokens_generated_per_second, prompt_tokens_per_second, requests_per_second, concurrent_requests)",
        HelpName = "KEY=VALUE,...",
    };

    public Option<string?> File { get; } = new("--file")
    {
        Description = "A JSON file holding the REST request body (e.g. one saved with -o json); flags given override its fields",
        HelpName = "PATH",
    };

    public Option<bool> DryRun { get; } = new("--dry-run") { Description = "Check the flags and file, print the request that would be sent, and send nothing" };

    public Option<string?> MinReplicaCount { get; } = new("--min-replica-count")
    {
        Description = "Minimum replicas (default 0: scale to zero when idle)",
        HelpName = "N",
    };

    public Option<string?> MaxReplicaCount { get; } = new("--max-replica-count")
    {
        Description = "Maximum replicas (default 1 if min is 0, else min)",
        HelpName = "N",
    };

    public Option<string?> ScaleUpWindow { get; } = new("--scale-up-window")
    {
        Description = "Wait after a load rise before scaling up (Go duration, default 30s)",
        HelpName = "DURATION",
    };

    public Option<string?> ScaleDownWindow { get; } = new("--scale-down-window")
    {
        Description = "Wait after a load drop before scaling down (Go duration, default 10m)",
        HelpName = "DURATION",
    };

    public Option<string?> ScaleToZeroWindow { get; } = new("--scale-to-zero-window")
    {
        Description = "Idle time before scaling to zero when min is 0 (Go duration, default 1h)",
        HelpName = "DURATION",
    };

    public Option<string?> UnusedAutoDeleteDuration { get; } = new("--unused-auto-delete-duration")
    {
        Description = "Delete the deployment after this long unused (Go duration, default 168h; 0 disables)",
        HelpName = "DURATION",
    };

    public Option<string?> WorldSize { get; } = new("--world-size")
    {
        Description = "Accelerators per replica: 1, 2, 4 or 8 (default 1)",
        HelpName = "N",
    };

    public Option<string?> AcceleratorType { get; } = new("--accelerator-type")
    {
        Description = $"Accelerator type (default: what the server's inventory places, CPU on a machine without GPUs; see 'kilnctl list accelerators'): {string.Join(", ", FlagValues.AcceleratorTypes)}",
        HelpName = "TYPE",
    };

    public Option<string?> Precision { get; } = new("--precision")
    {
        Description = "FP32 (default: F32 KV cache, exact logits) or FP16 (F16 KV cache: half the memory, faster batched decode)",
        HelpName = "FP32|FP16",
    };

    public Option<bool> EnableAddons { get; } = new("--enable-addons")
    {
        Description = "Allow LoRA addons to be loaded onto the deployment (default false)",
        HelpName = "true|false",
    };

    public Option<string?> MaxAddonCount { get; } = new("--max-addon-count")
    {
        Description = "Most addons deployed on the deployment at once, 1-1000 (default: the server's --max-addons-per-deployment, 16)",
        HelpName = "N",
    };

    public Option<string?> Engine { get; } = new("--engine")
    {
        Description = "Engine the replicas run (default kiln): kiln, vllm, sglang, llama-server, or a custom profile of the server",
        HelpName = "ENGINE",
    };

    public Option<string[]> EngineArgs { get; } = new("--engine-arg")
    {
        Description = "An argument added to the engine's command line (repeat for more; on update, replaces the list; --engine-arg '' clears it)",
        HelpName = "ARG",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> DraftModel { get; } = new("--draft-model")
    {
        Description = "Speculative decoding with a draft model over the same tokenizer (accounts/A/models/M or a model ID; \"\" removes it)",
        HelpName = "MODEL",
    };

    public Option<string?> DraftTokenCount { get; } = new("--draft-token-count")
    {
        Description = "Tokens proposed per step when speculating, 1-16 (typically 4; required with --draft-model or --ngram-speculation-length; 0 removes it)",
        HelpName = "N",
    };

    public Option<string?> NgramSpeculationLength { get; } = new("--ngram-speculation-length")
    {
        Description = "Speculative decoding by n-gram lookup in the prompt and output, matching this many tokens, 1-16 (0 removes it)",
        HelpName = "N",
    };

    public Option<string?> DeploymentShape { get; } = new("--deployment-shape")
    {
        Description = "A deployment shape fixing accelerators, precision and engine settings: a shape ID (cpu-minimal), accounts/A/deploymentShapes/S, or .../versions/V (see 'kilnctl list deployment-shape-versions'; \"\" removes it on update)",
        HelpName = "SHAPE",
    };

    public Option<string?> PrefixCacheMb { get; } = new("--prefix-cache-mb")
    {
        Description = "MiB of prompt KV each Kiln replica keeps for reuse by later prompts with the same prefix (default 256; 0 turns it off)",
        HelpName = "MB",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
                 {
                     DisplayName, Description, MinReplicaCount, MaxReplicaCount, ScaleUpWindow, ScaleDownWindow,
                     ScaleToZeroWindow, LoadTargets, UnusedAutoDeleteDuration, WorldSize, AcceleratorType, Precision, EnableAddons,
                     MaxAddonCount, Engine, EngineArgs, File, DryRun,
                     DraftModel, DraftTokenCount, NgramSpeculationLength, DeploymentShape, PrefixCacheMb,
                 })
        {
            command.Options.Add(option);
        }
    }

    public DeploymentSpecInput Read(CommandContext ctx) => new()
    {
        DisplayName = ctx.Get(DisplayName),
        Description = ctx.Get(Description),
        LoadTargets = ctx.Get(LoadTargets),
        MinReplicaCount = ctx.Get(MinReplicaCount),
        MaxReplicaCount = ctx.Get(MaxReplicaCount),
        ScaleUpWindow = ctx.Get(ScaleUpWindow),
        ScaleDownWindow = ctx.Get(ScaleDownWindow),
        ScaleToZeroWindow = ctx.Get(ScaleToZeroWindow),
        UnusedAutoDeleteDuration = ctx.Get(UnusedAutoDeleteDuration),
        WorldSize = ctx.Get(WorldSize),
        AcceleratorType = ctx.Get(AcceleratorType),
        Precision = ctx.Get(Precision),
        // A bare --enable-addons means true; "--enable-addons false" turns addons off on update.
        EnableAddons = ctx.Given(EnableAddons) ? ctx.Get(EnableAddons) : null,
        MaxAddonCount = ctx.Get(MaxAddonCount),
        Engine = ctx.Get(Engine),
        EngineArgs = ctx.Given(EngineArgs) ? ctx.Get(EngineArgs) : null,
        DraftModel = ctx.Get(DraftModel),
        DraftTokenCount = ctx.Get(DraftTokenCount),
        NgramSpeculationLength = ctx.Get(NgramSpeculationLength),
        DeploymentShape = ctx.Get(DeploymentShape),
        PrefixCacheMb = ctx.Get(PrefixCacheMb),
    };
}
