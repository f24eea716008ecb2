using Kiln.Core.Catalog;
using Kiln.Core.ModelSources;

namespace Kiln.Core.Tests.ModelSources;

public class ModelCatalogTests
{
    private const string Entry = """
        { "id": "tiny", "name": "Tiny Chat", "source": "hf://acme/Tiny-GGUF/tiny.Q8_0.gguf", "quantization": "Q8_0",
          "architecture": "llama", "license": "apache-2.0", "contextLength": 2048, "chatTemplate": true }
        """;

    private static string Catalog(params string[] entries) => $$"""{ "models": [ {{string.Join(",", entries)}} ] }""";

    private static string With(string field, string value) => Entry.Replace("}", $", \"{field}\": {value} }}");

    [Fact]
    public void Reads_entries_with_their_optional_facts_and_comments()
    {
        var json = "// a note\n" + Catalog(With("sha256", $"\"{new string('a', 64)}\"").Replace("}", ", \"sizeBytes\": 1000, \"sizeIsApproximate\": true, \"unverified\": [\"sizeBytes\"] }"),
            Entry.Replace("\"tiny\"", "\"other\"").Replace("hf://acme/Tiny-GGUF/tiny.Q8_0.gguf", "https://example.com/o.gguf"));
        var catalog = ModelCatalog.Parse(json);
        Assert.Equal(["tiny", "other"], catalog.Entries.Select(e => e.Id));
        var tiny = catalog.Find("tiny")!;
        Assert.Equal(ModelSourceKind.HuggingFace, tiny.Source.Kind);
        Assert.Equal((1000L, true, new string('a', 64), 2048, true), (tiny.SizeBytes!.Value, tiny.SizeIsApproximate, tiny.Sha256!, tiny.ContextLength, tiny.ChatTemplate));
        Assert.Equal(["sizeBytes"], tiny.Unverified);
        Assert.Null(catalog.Find("other")!.Sha256);
        Assert.Null(catalog.Find("missing"));
    }

    [Fact]
    public void Searches_ids_and_names_in_any_case()
    {
        var catalog = ModelCatalog.Parse(Catalog(Entry, Entry.Replace("\"tiny\"", "\"big\"").Replace("Tiny Chat", "Big Model")));
        Assert.Equal(["tiny"], catalog.Search("CHAT").Select(e => e.Id));
        Assert.Equal(["big"], catalog.Search("bi").Select(e => e.Id));
        Assert.Equal(2, catalog.Search(" ").Count);
        Assert.Empty(catalog.Search("mistral"));
    }

    [Theory]
    [InlineData("[]", "a catalog is an object with a \"models\" array")]
    [InlineData("{ \"models\": 3 }", "a catalog is an object with a \"models\" array")]
    [InlineData("{", "not valid JSON")]
    public void Refuses_a_file_that_is_not_a_catalog(string json, string reason)
    {
        Assert.False(ModelCatalog.TryParse(json, out _, out var error));
        Assert.Contains(reason, error);
    }

    public static TheoryData<string, string> BadEntries() => new()
    {
        { Entry.Replace("\"id\": \"tiny\", ", ""), "models[0]: id is required" },
        { Entry.Replace("\"tiny\"", "\"Tiny\""), "models[0]: id \"Tiny\" must be lowercase" },
        { Entry.Replace("2048", "0"), "models[0]: \"tiny\": contextLength must be a positive integer" },
        { Entry.Replace("2048", "\"2048\""), "models[0]: \"tiny\": contextLength must be a number" },
        { Entry.Replace("true", "\"yes\""), "models[0]: \"tiny\": chatTemplate must be true or false" },
        { With("sha256", "\"ABC\""), "models[0]: \"tiny\": sha256 must be 64 lowercase hex digits" },
        { With("sizeBytes", "-5"), "models[0]: \"tiny\": sizeBytes must be positive" },
        { With("unverified", "[1]"), "models[0]: \"tiny\": unverified must be an array of strings" },
        { Entry.Replace("hf://acme/Tiny-GGUF/tiny.Q8_0.gguf", "./tiny.gguf"), "models[0]: \"tiny\": source must be an https:// URL or an hf:// file" },
        { Entry.Replace("hf://acme/Tiny-GGUF/tiny.Q8_0.gguf", "hf://acme/tiny.gguf"), "models[0]: \"tiny\": source: \"hf://acme/tiny.gguf\"" },
        { "3", "models[0]: an entry is a JSON object" },
    };

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void Refuses_a_bad_entry_naming_it_and_the_field(string entry, string reason)
    {
        Assert.False(ModelCatalog.TryParse(Catalog(entry), out _, out var error));
        Assert.StartsWith(reason, error);
    }

    [Fact]
    public void Refuses_an_id_listed_twice()
    {
        Assert.False(ModelCatalog.TryParse(Catalog(Entry, Entry), out _, out var error));
        Assert.Equal("models[1]: the id \"tiny\" appears twice", error);
    }
}
