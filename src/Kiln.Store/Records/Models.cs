using Kiln.Core.Engines;
using Kiln.Core.Models;
using Kiln.Core.Names;

namespace Kiln.Store;

/// <summary>What creating a model needs.</summary>
/// <param name="Account">The owning account.</param>
/// <param name="Id">The model's ID within the account.</param>
/// <param name="Kind">Base model or addon.</param>
/// <param name="FilePath">Where the weights live on the control plane's disk.</param>
/// <param name="SizeBytes">Size of the weights file.</param>
/// <param name="State">UPLOADING while weights arrive, then READY. DEPLOYED is derived, never stored.</param>
public sealed record NewModel(string Account, string Id, ModelKind Kind, string FilePath, long SizeBytes, ModelState State = ModelState.Ready)
{
    /// <summary>Human-readable name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>For addons: the base model's name, <c>accounts/A/models/M</c>.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Lowercase hex SHA-256 of the weights file, when known.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Architecture read from the weights, e.g. "llama".</summary>
    public string? Architecture { get; init; }

    /// <summary>Context length in tokens, when known.</summary>
    public int? ContextLength { get; init; }

    /// <summary>How its weights are stored: one GGUF file, or a Hugging Face folder; fixed at creation.</summary>
    public ModelFormat Format { get; init; } = ModelFormat.Gguf;
}

/// <summary>A stored model. Update with <c>with</c> and <see cref="IKilnStore.UpdateModelAsync"/>.</summary>
public sealed record ModelRecord
{
    /// <summary>The owning account.</summary>
    public required string Account { get; init; }

    /// <summary>The model's ID within the account.</summary>
    public required string Id { get; init; }

    /// <summary>Human-readable name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Base model or addon; fixed at creation.</summary>
    public required ModelKind Kind { get; init; }

    /// <summary>For addons: the base model's name; fixed at creation.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Where the weights live.</summary>
    public required string FilePath { get; init; }

    /// <summary>Lowercase hex SHA-256 of the weights, when known.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Size of the weights file.</summary>
    public long SizeBytes { get; init; }

    /// <summary>Architecture, e.g. "llama".</summary>
    public string? Architecture { get; init; }

    /// <summary>Context length in tokens.</summary>
    public int? ContextLength { get; init; }

    /// <summary>How its weights are stored (a GGUF file, or a Hugging Face folder at <see cref="FilePath"/>).</summary>
    public ModelFormat Format { get; init; } = ModelFormat.Gguf;

    /// <summary>Stored state: UPLOADING or READY.</summary>
    public ModelState State { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreateTime { get; init; }

    /// <summary>When it last changed.</summary>
    public DateTimeOffset UpdateTime { get; init; }

    /// <summary><c>accounts/A/models/M</c>.</summary>
    public ModelName Name => new(Account, Id);
}
