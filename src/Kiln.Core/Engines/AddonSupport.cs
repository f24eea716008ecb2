namespace Kiln.Core.Engines;

/// <summary>How an engine loads LoRA addons at runtime.</summary>
public enum AddonProtocol
{
    /// <summary>It cannot: deploying an addon onto it is refused with <see cref="AddonSupport.Reason"/>.</summary>
    None,
    /// <summary>Kiln's replica: <c>POST/GET /v1/adapters</c>, <c>DELETE /v1/adapters/{name}</c>.</summary>
    Kiln,
    /// <summary>
    /// vLLM's and SGLang's shape: POST <c>{"lora_name", "lora_path"}</c> to a load path and
    /// <c>{"lora_name"}</c> to an unload path; loaded adapters are listed as models whose
    /// <c>parent</c> is the base model.
    /// </summary>
    LoraEndpoints,
}

/// <summary>An engine's addon loading.</summary>
/// <param name="Protocol">Which API.</param>
/// <param name="LoadPath">For <see cref="AddonProtocol.LoraEndpoints"/>: where adapters load.</param>
/// <param name="UnloadPath">For <see cref="AddonProtocol.LoraEndpoints"/>: where they unload.</param>
/// <param name="ListPath">For <see cref="AddonProtocol.LoraEndpoints"/>: the model list that shows loaded adapters.</param>
/// <param name="Reason">For <see cref="AddonProtocol.None"/>: why, for the 400 a deploy gets.</param>
public sealed record AddonSupport(AddonProtocol Protocol, string LoadPath = "", string UnloadPath = "", string ListPath = "/v1/models", string Reason = "")
{
    /// <summary>Kiln's own adapter API.</summary>
    public static AddonSupport Kiln { get; } = new(AddonProtocol.Kiln);

    /// <summary>No runtime loading, for <paramref name="reason"/>.</summary>
    public static AddonSupport Unsupported(string reason) => new(AddonProtocol.None, Reason: reason);

    /// <summary>True when addons can be deployed onto the engine.</summary>
    public bool Supported => Protocol != AddonProtocol.None;
}
