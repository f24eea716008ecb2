using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Kiln.Core.ModelSources;

namespace Kiln.Core.Catalog;

/// <summary>
/// Kiln's list of well-known GGUF models, read from its JSON form:
/// <c>{ "models": [ { "id", "name", "source", "quantization", "architecture", "license",
/// "contextLength", "chatTemplate", "sizeBytes"?, "sizeIsApproximate"?, "sha256"?, "unverified"?, "description"? } ] }</c>.
/// Every entry is checked when read, so a bad file is refused whole, naming the entry and field.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, CatalogEntry> _byId;

    private ModelCatalog(IReadOnlyList<CatalogEntry> entries)
    {
        Entries = entries;
        _byId = entries.ToDictionary(e => e.Id, StringComparer.Ordinal);
    }

    /// <summary>Every entry, in the file's order.</summary>
    public IReadOnlyList<CatalogEntry> Entries { get; }

    /// <summary>The entry with this ID, if any.</summary>
    public CatalogEntry? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The entries whose ID or name contains <paramref name="text"/> (any case); all when it is empty.</summary>
    public IReadOnlyList<CatalogEntry> Search(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? Entries
            : Entries.Where(e => e.Id.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase)
                                 || e.Name.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>Reads a catalog; throws <see cref="FormatException"/> naming the problem.</summary>
    public static ModelCatalog Parse(string json) =>
        TryParse(json, out var catalog, out var error) ? catalog : throw new FormatException(error);

    /// <summary>Reads a catalog; false with the first problem found.</summary>
    public static bool TryParse(string? json, [NotNullWhen(true)] out ModelCatalog? catalog, [NotNullWhen(false)] out string? error)
    {
        catalog = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json ?? "", new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            error = $"not valid JSON: {e.Message}";
            return false;
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array)
            {
                error = "a catalog is an object with a \"models\" array";
                return false;
            }
            var entries = new List<CatalogEntry>();
            var index = 0;
            foreach (var item in models.EnumerateArray())
            {
                if (!TryReadEntry(item, out var entry, out var problem))
                {
                    error = $"models[{index}]: {problem}";
                    return false;
                }
                if (entries.Any(e => e.Id == entry.Id))
                {
                    error = $"models[{index}]: the id \"{entry.Id}\" appears twice";
                    return false;
                }
                entries.Add(entry);
                index++;
            }
            catalog = new ModelCatalog(entries);
            error = null;
            return true;
        }
    }

    private static bool TryReadEntry(JsonElement e, [NotNullWhen(true)] out CatalogEntry? entry, [NotNullWhen(false)] out string? error)
    {
        entry = null;
        var reader = new EntryReader(e);
        var id = reader.String("id");
        var name = reader.String("name");
        var sourceText = reader.String("source");
        var quantization = reader.String("quantization");
        var architecture = reader.String("architecture");
        var license = reader.String("license");
        var context = reader.Number("contextLength");
        var chat = reader.Bool("chatTemplate");
        var size = reader.Number("sizeBytes", optional: true);
        var approximate = reader.Bool("sizeIsApproximate", optional: true) ?? false;
        var sha = reader.String("sha256", optional: true);
        var description = reader.String("description", optional: true);
        var unverified = reader.Strings("unverified");
        if (reader.Error is { } problem)
        {
            error = id is null ? problem : $"\"{id}\": {problem}";
            return false;
        }
        error = id switch
        {
            _ when !ModelSource.IsCatalogId(id!) => $"id \"{id}\" must be lowercase letters, digits, '.', '-' or '_' (at most {ModelSource.MaxCatalogIdLength})",
            _ when context is not (> 0 and <= int.MaxValue) => $"\"{id}\": contextLength must be a positive integer",
            _ when size is <= 0 => $"\"{id}\": sizeBytes must be positive",
            _ when sha is not null && !IsSha256(sha) => $"\"{id}\": sha256 must be 64 lowercase hex digits",
            _ => null,
        };
        if (error is not null)
        {
            return false;
        }
        if (!ModelSource.TryParse(sourceText, out var source, out var sourceError))
        {
            error = $"\"{id}\": source: {sourceError}";
            return false;
        }
        if (source.Kind is not (ModelSourceKind.Url or ModelSourceKind.HuggingFace))
        {
            error = $"\"{id}\": source must be an https:// URL or an hf:// file, not \"{sourceText}\"";
            return false;
        }
        entry = new CatalogEntry(id!, name!, source, quantization!, architecture!, license!, (int)context!.Value, chat!.Value)
        {
            SizeBytes = size,
            SizeIsApproximate = approximate,
            Sha256 = sha,
            Unverified = unverified,
            Description = description,
        };
        return true;
    }

    /// <summary>Whether <paramref name="s"/> is a SHA-256 in lowercase hex.</summary>
    public static bool IsSha256(string s) => s.Length == 64 && s.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>Reads an entry's fields, keeping the first problem.</summary>
    private sealed class EntryReader(JsonElement e)
    {
        public string? Error { get; private set; }

        public string? String(string field, bool optional = false)
        {
            if (!TryGet(field, optional, out var v, JsonValueKind.String))
            {
                return null;
            }
            return v.GetString() is { Length: > 0 } s ? s : Fail($"{field} must not be empty");
        }

        public long? Number(string field, bool optional = false)
        {
            if (!TryGet(field, optional, out var v, JsonValueKind.Number))
            {
                return null;
            }
            if (v.TryGetInt64(out var n))
            {
                return n;
            }
            Fail($"{field} must be a whole number");
            return null;
        }

        public bool? Bool(string field, bool optional = false) =>
            TryGet(field, optional, out var v, JsonValueKind.True, JsonValueKind.False) ? v.GetBoolean() : null;

        public IReadOnlyList<string> Strings(string field)
        {
            if (!TryGet(field, optional: true, out var v, JsonValueKind.Array))
            {
                return [];
            }
            if (v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
            {
                Fail($"{field} must be an array of strings");
                return [];
            }
            return [.. v.EnumerateArray().Select(x => x.GetString()!)];
        }

        private bool TryGet(string field, bool optional, out JsonElement value, params JsonValueKind[] kinds)
        {
            value = default;
            if (e.ValueKind != JsonValueKind.Object)
            {
                Fail("an entry is a JSON object");
                return false;
            }
            if (!e.TryGetProperty(field, out value) || value.ValueKind == JsonValueKind.Null)
            {
                if (!optional) Fail($"{field} is required");
                return false;
            }
            if (!kinds.Contains(value.ValueKind))
            {
                Fail($"{field} must be {Describe(kinds[0])}");
                return false;
            }
            return true;
        }

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.Array => "an array of strings",
            _ => "true or false",
        };

        private string? Fail(string problem)
        {
            Error ??= problem;
            return null;
        }
    }
}
