using Kiln.Core.ModelSources;

namespace Kiln.Core.Catalog;

/// <summary>One well-known model Kiln can import by ID: one chosen quantization of it.</summary>
/// <param name="Id">The catalog ID, e.g. <c>tinyllama-1.1b-chat</c>.</param>
/// <param name="Name">The model's name as its publisher gives it.</param>
/// <param name="Source">Where the file is: an <c>hf://</c> file or an <c>https://</c> URL.</param>
/// <param name="Quantization">The quantization of that file, e.g. <c>Q4_K_M</c>.</param>
/// <param name="Architecture">The GGUF architecture, e.g. <c>llama</c> or <c>qwen2</c>.</param>
/// <param name="License">The license's SPDX-style identifier or name.</param>
/// <param name="ContextLength">The context length the model was trained for, in tokens.</param>
/// <param name="ChatTemplate">Whether the GGUF carries a chat template.</param>
public sealed record CatalogEntry(
    string Id,
    string Name,
    ModelSource Source,
    string Quantization,
    string Architecture,
    string License,
    int ContextLength,
    bool ChatTemplate)
{
    /// <summary>The file's size in bytes, as the publisher lists it (see <see cref="SizeIsApproximate"/>).</summary>
    public long? SizeBytes { get; init; }

    /// <summary>True when <see cref="SizeBytes"/> is a rounded figure, not the exact length: the download's own length is what counts.</summary>
    public bool SizeIsApproximate { get; init; }

    /// <summary>The file's SHA-256 (lowercase hex) when the catalog records it; otherwise the download is checked against the digest its source publishes.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Which of this entry's facts were not checked against the file itself (e.g. <c>sizeBytes</c>, <c>contextLength</c>).</summary>
    public IReadOnlyList<string> Unverified { get; init; } = [];

    /// <summary>A short description.</summary>
    public string? Description { get; init; }
}
