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

    /// <summary>Where the server downloads the weights from (see <see cref="ModelRecord.Source"/>); null for uploads.</summary>
    public string? Source { get; init; }

    /// <summary>The URL <see cref="Source"/> resolved to.</summary>
    public string? SourceUrl { get; init; }

    /// <summary>The SHA-256 the download must have, when known before it starts.</summary>
    public string? ExpectedSha256 { get; init; }
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

    /// <summary>Stored state: UPLOADING, DOWNLOADING, FAILED or READY.</summary>
    public ModelState State { get; init; }

    /// <summary>What the model was imported from as the caller named it (a URL, <c>hf://...</c> or a catalog ID); null for uploads.</summary>
    public string? Source { get; init; }

    /// <summary>The URL the server downloads from.</summary>
    public string? SourceUrl { get; init; }

    /// <summary>The SHA-256 the download must have, when known before it starts (from the catalog or the request).</summary>
    public string? ExpectedSha256 { get; init; }

    /// <summary>Why the model FAILED (with the code of the failure), or a note on a READY one (e.g. how its digest was checked).</summary>
    public DeploymentStatus? Status { get; init; }

    /// <summary>How far the download is, while DOWNLOADING (null otherwise).</summary>
    public ModelDownloadProgress? Download { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreateTime { get; init; }

    /// <summary>When it last changed.</summary>
    public DateTimeOffset UpdateTime { get; init; }

    /// <summary><c>accounts/A/models/M</c>.</summary>
    public ModelName Name => new(Account, Id);
}

/// <summary>A model download's progress as last written by the server that runs it.</summary>
/// <param name="Bytes">Bytes on disk so far (a resumed download counts what it kept).</param>
/// <param name="TotalBytes">The file's length, once the source said it.</param>
/// <param name="BytesPerSecond">The recent speed, once measured.</param>
public sealed record ModelDownloadProgress(long Bytes, long? TotalBytes, long? BytesPerSecond);
