using Kiln.Core.Wire;

namespace Kiln.Core.Models;

/// <summary>What a model is; wire names as Fireworks ("HF_BASE_MODEL").</summary>
public enum ModelKind
{
    /// <summary>Unknown.</summary>
    Unspecified,
    /// <summary>An imported base model (weights from a Hugging Face-style release).</summary>
    HfBaseModel,
    /// <summary>A base model uploaded by the user.</summary>
    CustomModel,
    /// <summary>A LoRA addon on top of a base model.</summary>
    HfPeftAddon,
}

/// <summary>Wire names of <see cref="ModelKind"/>.</summary>
public static class ModelKinds
{
    private static readonly WireTable<ModelKind> Table = new(
        (ModelKind.Unspecified, "KIND_UNSPECIFIED"),
        (ModelKind.HfBaseModel, "HF_BASE_MODEL"),
        (ModelKind.CustomModel, "CUSTOM_MODEL"),
        (ModelKind.HfPeftAddon, "HF_PEFT_ADDON"));

    /// <summary>The wire name.</summary>
    public static string ToWireName(this ModelKind kind) => Table.Name(kind);

    /// <summary>Parses a wire name (exact).</summary>
    public static bool TryParse(string? name, out ModelKind kind) => Table.TryParse(name, out kind);

    /// <summary>True for addons, which need a base model and a deployment with addons enabled.</summary>
    public static bool IsAddon(this ModelKind kind) => kind == ModelKind.HfPeftAddon;
}
