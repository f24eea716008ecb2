using System.CommandLine;

namespace Kiln.Cli.Commands;

/// <summary>
/// The deployment spec flags shared by create and update. Values stay strings here so that
/// <see cref="DeploymentSpec"/> can word every error itself; a fresh set is made per command.
/// </summary>
public sealed class DeploymentSpecOptions
{
    public Option<string?> DisplayName { get; } = new("--display-name") { Description = "Human-readable name", HelpName = "NAME" };

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
        Description = $"Accelerator type (default NVIDIA_A100_80GB): {string.Join(", ", FlagValues.AcceleratorTypes)}",
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

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
                 {
                     DisplayName, MinReplicaCount, MaxReplicaCount, ScaleUpWindow, ScaleDownWindow,
                     ScaleToZeroWindow, UnusedAutoDeleteDuration, WorldSize, AcceleratorType, Precision, EnableAddons, Engine, EngineArgs,
                 })
        {
            command.Options.Add(option);
        }
    }

    public DeploymentSpecInput Read(CommandContext ctx) => new()
    {
        DisplayName = ctx.Get(DisplayName),
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
        Engine = ctx.Get(Engine),
        EngineArgs = ctx.Given(EngineArgs) ? ctx.Get(EngineArgs) : null,
    };
}
