using System.CommandLine;
using System.Globalization;
using Kiln.Core.Time;
using Kiln.Server.ControlPlane.Catalog;
using Kiln.Server.ControlPlane.Imports;

namespace Kiln.Server.Commands;

/// <summary><c>kiln server</c>'s flags for models the server downloads (from a URL, hf:// or the catalog), checked together.</summary>
internal sealed class ModelImportFlags
{
    private readonly Option<string?> _hub = new("--huggingface-url")
    {
        Description = "Where hf://owner/repo/file resolves: <URL>/owner/repo/resolve/main/file (default: https://huggingface.co; a mirror works)",
    };
    private readonly Option<string?> _catalog = new("--catalog") { Description = "A model catalog JSON file to offer instead of the built-in one (docs/catalog.md)" };
    private readonly Option<string?> _reserve = new("--download-disk-reserve")
    {
        Description = "Bytes a model download must leave free on the data directory's disk; one that would not fails as a full disk (default 1073741824)",
    };
    private readonly Option<int?> _attempts = new("--download-attempts") { Description = "Failed attempts in a row before a download fails (default 5)", Hidden = true };
    private readonly Option<string?> _delay = new("--download-retry-delay") { Description = "Pause after a failed download attempt, doubling (Go duration, default 1s)", Hidden = true };

    /// <summary>Adds the flags and their checks to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_hub);
        command.Options.Add(_catalog);
        command.Options.Add(_reserve);
        command.Options.Add(_attempts);
        command.Options.Add(_delay);
        command.Validators.Add(r =>
        {
            if (r.GetValue(_hub) is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)))
            {
                r.AddError($"--huggingface-url: must be an absolute http(s) URL, got '{url}'");
            }
            if (r.GetValue(_catalog) is { } file && !CatalogStore.TryLoad(file, out _, out var error))
            {
                r.AddError($"--catalog {file}: {error}");
            }
            if (r.GetValue(_reserve) is { } reserve && !long.TryParse(reserve, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                r.AddError($"--download-disk-reserve: must be a whole number of bytes >= 0, got '{reserve}'");
            }
            if (r.GetValue(_attempts) is < 1)
            {
                r.AddError($"--download-attempts: must be at least 1, got {r.GetValue(_attempts)}");
            }
            if (r.GetValue(_delay) is { } delay && (!GoDuration.TryParse(delay, out var d, out var problem) || d < TimeSpan.Zero))
            {
                r.AddError($"--download-retry-delay: {problem ?? $"must not be negative, got {delay}"}");
            }
        });
    }

    /// <summary>The options the (validated) flags ask for.</summary>
    public ModelImportOptions Read(ParseResult r)
    {
        var defaults = new ModelImportOptions();
        Kiln.Core.Catalog.ModelCatalog? catalog = null;
        if (r.GetValue(_catalog) is { } file)
        {
            CatalogStore.TryLoad(file, out catalog, out _);
        }
        return defaults with
        {
            HuggingFaceBase = r.GetValue(_hub) is { } hub ? new Uri(hub) : defaults.HuggingFaceBase,
            Catalog = catalog,
            DiskReserveBytes = r.GetValue(_reserve) is { } reserve ? long.Parse(reserve, CultureInfo.InvariantCulture) : defaults.DiskReserveBytes,
            MaxAttempts = r.GetValue(_attempts) ?? defaults.MaxAttempts,
            RetryDelay = r.GetValue(_delay) is { } delay ? GoDuration.Parse(delay) : defaults.RetryDelay,
        };
    }
}
