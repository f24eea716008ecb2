using Kiln.Core.Catalog;
using Kiln.Core.Errors;
using Kiln.Core.ModelSources;

namespace Kiln.Server.ControlPlane.Imports;

/// <summary>What the server downloads for a model: the URL, the digest to check when known, and the catalog entry it came from.</summary>
/// <param name="Source">The source as the caller named it.</param>
/// <param name="Url">Where to download it from.</param>
/// <param name="ExpectedSha256">The SHA-256 the file must have, from the request or the catalog; null to use the one the source publishes.</param>
/// <param name="Entry">The catalog entry, for a catalog ID.</param>
public sealed record ImportSource(string Source, Uri Url, string? ExpectedSha256, CatalogEntry? Entry)
{
    /// <summary>
    /// Resolves a request's <c>source</c> (and optional <c>sha256</c>): a URL as it is, <c>hf://</c>
    /// under <paramref name="hubBase"/>, a catalog ID through <paramref name="catalog"/>. A local path
    /// is the client's to upload, so it is refused here; so is an unknown catalog ID.
    /// </summary>
    public static ImportSource Resolve(string source, string? sha256, ModelCatalog catalog, Uri hubBase)
    {
        if (!ModelSource.TryParse(source, out var parsed, out var error))
        {
            throw KilnError.InvalidArgument($"source: {error}");
        }
        if (sha256 is not null && !ModelCatalog.IsSha256(sha256.ToLowerInvariant()))
        {
            throw KilnError.InvalidArgument($"sha256: must be 64 hex digits, got \"{sha256}\"");
        }
        var expected = sha256?.ToLowerInvariant();
        switch (parsed.Kind)
        {
            case ModelSourceKind.Url:
                return new ImportSource(parsed.Text, parsed.Url!, expected, null);
            case ModelSourceKind.HuggingFace:
                return new ImportSource(parsed.Text, parsed.HuggingFace!.ResolveUrl(hubBase), expected, null);
            case ModelSourceKind.Catalog:
                var entry = catalog.Find(parsed.Text) ?? throw KilnError.InvalidArgument(
                    $"source: \"{parsed.Text}\" is not in the model catalog (GET /v1/catalog lists it; a local file is uploaded, write ./{parsed.Text})");
                if (expected is not null && entry.Sha256 is { } known && known != expected)
                {
                    throw KilnError.InvalidArgument($"sha256: the catalog records {known} for {entry.Id}, not {expected}");
                }
                var url = entry.Source.Url ?? entry.Source.HuggingFace!.ResolveUrl(hubBase);
                return new ImportSource(parsed.Text, url, expected ?? entry.Sha256, entry);
            default:
                throw KilnError.InvalidArgument(
                    $"source: \"{parsed.Text}\" is a local path; the server imports URLs, hf:// files and catalog IDs (a local file is uploaded with :upload, as kilnctl import model --from PATH does)");
        }
    }
}
