using Kiln.Core.ModelSources;

namespace Kiln.Server.ControlPlane.Imports;

/// <summary>How <c>kiln server</c> downloads models it imports from a URL, hf:// or the catalog.</summary>
public sealed record ModelImportOptions
{
    /// <summary>Where <c>hf://owner/repo/file</c> resolves (<c>{base}/owner/repo/resolve/main/file</c>); a mirror or a test server may stand in.</summary>
    public Uri HuggingFaceBase { get; init; } = HuggingFaceFile.DefaultBase;

    /// <summary>An operator's catalog (<c>kiln server --catalog FILE</c>) to offer instead of the one built in; null for the built-in one.</summary>
    public Kiln.Core.Catalog.ModelCatalog? Catalog { get; init; }

    /// <summary>Bytes a download must leave free on the data directory's disk; a download that would eat into them fails as a full disk.</summary>
    public long DiskReserveBytes { get; init; } = 1L << 30;

    /// <summary>Failed attempts in a row (connections lost before any new byte arrived, 5xx answers) before a download fails for good.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The pause after the first failed attempt; it doubles after each further one, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest pause between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection that delivers nothing for this long counts as lost.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the importer looks for models to download (and for deleted ones to stop).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a running download writes its progress to the store.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Downloads run at once; more wait their turn in DOWNLOADING.</summary>
    public int MaxConcurrent { get; init; } = 2;
}
