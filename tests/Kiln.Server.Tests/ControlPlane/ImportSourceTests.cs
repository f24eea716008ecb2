using Kiln.Core.Catalog;
using Kiln.Core.Errors;
using Kiln.Core.ModelSources;
using Kiln.Server.ControlPlane.Catalog;
using Kiln.Server.ControlPlane.Imports;

namespace Kiln.Server.Tests.ControlPlane;

public class ImportSourceTests
{
    private static readonly Uri Mirror = new("http://mirror.internal/hub/");

    [Fact]
    public void The_built_in_catalog_reads_and_every_entry_is_a_download_kiln_can_start()
    {
        var catalog = CatalogStore.BuiltIn();
        Assert.True(catalog.Entries.Count >= 8);
        foreach (var e in catalog.Entries)
        {
            Assert.Contains(e.Architecture, (string[])["llama", "qwen2"]);
            Assert.Equal(ModelSourceKind.HuggingFace, e.Source.Kind);
            Assert.EndsWith(".gguf", e.Source.HuggingFace!.Path, StringComparison.Ordinal);
            // Written offline: no digest is claimed that nobody computed, and guessed sizes say so.
            Assert.Null(e.Sha256);
            Assert.True(e.SizeBytes is null || e.SizeIsApproximate, e.Id);
            var resolved = ImportSource.Resolve(e.Id, null, catalog, Mirror);
            Assert.StartsWith("http://mirror.internal/hub/", resolved.Url.AbsoluteUri, StringComparison.Ordinal);
            Assert.Contains("/resolve/main/", resolved.Url.AbsoluteUri, StringComparison.Ordinal);
        }
        Assert.NotNull(catalog.Find("tinyllama-1.1b-chat"));
        Assert.NotNull(catalog.Find("qwen2.5-0.5b-instruct"));
    }

    [Fact]
    public void Urls_and_hf_files_resolve_with_the_digest_given()
    {
        var catalog = CatalogStore.BuiltIn();
        var url = ImportSource.Resolve("https://example.com/m.gguf", new string('A', 64), catalog, Mirror);
        Assert.Equal((new Uri("https://example.com/m.gguf"), new string('a', 64), (CatalogEntry?)null), (url.Url, url.ExpectedSha256, url.Entry));
        var hf = ImportSource.Resolve("hf://acme/Repo-GGUF/m.Q8_0.gguf", null, catalog, Mirror);
        Assert.Equal("http://mirror.internal/hub/acme/Repo-GGUF/resolve/main/m.Q8_0.gguf", hf.Url.AbsoluteUri);
        Assert.Null(hf.ExpectedSha256);
    }

    [Fact]
    public void A_catalog_digest_is_expected_and_a_different_one_in_the_request_is_refused()
    {
        var sha = new string('c', 64);
        var catalog = ModelCatalog.Parse($$"""
            { "models": [ { "id": "pinned", "name": "P", "source": "https://example.com/p.gguf", "quantization": "Q8_0",
              "architecture": "llama", "license": "mit", "contextLength": 64, "chatTemplate": false, "sha256": "{{sha}}" } ] }
            """);
        Assert.Equal(sha, ImportSource.Resolve("pinned", null, catalog, Mirror).ExpectedSha256);
        Assert.Equal("P", ImportSource.Resolve("pinned", sha, catalog, Mirror).Entry!.Name);
        var e = Assert.Throws<KilnError>(() => ImportSource.Resolve("pinned", new string('d', 64), catalog, Mirror));
        Assert.StartsWith($"sha256: the catalog records {sha} for pinned", e.Message);
    }

    [Theory]
    [InlineData("ftp://x/y.gguf", "source: \"ftp://x/y.gguf\": the scheme ftp:// is not supported")]
    [InlineData("no-such-model", "source: \"no-such-model\" is not in the model catalog")]
    [InlineData("/srv/m.gguf", "source: \"/srv/m.gguf\" is a local path")]
    [InlineData("", "source: a source is required")]
    public void Unusable_sources_are_invalid_arguments(string source, string message)
    {
        var e = Assert.Throws<KilnError>(() => ImportSource.Resolve(source, null, CatalogStore.BuiltIn(), Mirror));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.StartsWith(message, e.Message);
    }
}
