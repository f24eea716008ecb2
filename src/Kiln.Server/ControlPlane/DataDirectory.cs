namespace Kiln.Server.ControlPlane;

/// <summary>The layout of the data directory.</summary>
/// <remarks>
/// <c>kiln.db</c> (the SQLite store), <c>models/&lt;account&gt;/&lt;model&gt;.gguf</c> (addons: a folder <c>models/&lt;account&gt;/&lt;model&gt;/</c>),
/// <c>downloads/&lt;account&gt;/&lt;model&gt;.gguf.part</c> (a model download in progress, kept to resume it),
/// <c>replicas/&lt;account&gt;/&lt;deployment&gt;/&lt;replica&gt;.log</c> and <c>admin-api-key</c>
/// (mode 0600). The directory itself is private to its owner (0700).
/// </remarks>
public sealed class DataDirectory
{
    /// <summary>Uses (and creates) <paramref name="root"/>; model files go to <paramref name="models"/> when given (a path every node mounts).</summary>
    public DataDirectory(string root, string? models = null)
    {
        Root = Path.GetFullPath(root);
        Models = models is null ? Path.Combine(Root, "models") : Path.GetFullPath(models);
        var created = !Directory.Exists(Root);
        Directory.CreateDirectory(Root);
        if (created && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Directory.CreateDirectory(Models);
        Directory.CreateDirectory(Replicas);
        // Uploads interrupted by a stop or crash left their temporary files; nothing writes them yet.
        RemovedStaleUploads = Api.UploadedFile.RemoveStale(Models);
    }

    /// <summary>How many temporary upload files (<c>.*.part</c>) opening the directory removed.</summary>
    public int RemovedStaleUploads { get; }

    /// <summary>The directory.</summary>
    public string Root { get; }

    /// <summary>The store's database file.</summary>
    public string Database => Path.Combine(Root, "kiln.db");

    /// <summary>Where model files live: <c>models/</c> here, or the shared model path.</summary>
    public string Models { get; }

    /// <summary>The secret replica download tokens are signed with (mode 0600).</summary>
    public string ReplicaTokenSecretFile => Path.Combine(Root, "replica-token-secret");

    /// <summary>Where replica logs live.</summary>
    public string Replicas => Path.Combine(Root, "replicas");

    /// <summary>The admin API key, written once on first start.</summary>
    public string AdminKeyFile => Path.Combine(Root, "admin-api-key");

    /// <summary>The model file of <c>accounts/A/models/M</c>.</summary>
    public string ModelFile(string account, string model) => Path.Combine(Models, account, model + ".gguf");

    /// <summary>Where model downloads keep their data until it is complete and checked.</summary>
    public string Downloads => Path.Combine(Root, "downloads");

    /// <summary>The gateway warm-ups' scratch stores, one folder each, removed when the warm-up ends.</summary>
    public string GatewayWarmups => Path.Combine(Root, "gateway-warmup");

    /// <summary>The resumable partial download of <c>accounts/A/models/M</c>.</summary>
    public string DownloadPart(string account, string model) => Path.Combine(Downloads, account, model + ".gguf.part");

    /// <summary>The folder of addon <c>accounts/A/models/M</c>: its LoRA GGUF or its PEFT files.</summary>
    public string AddonFolder(string account, string model) => Path.Combine(Models, account, model);
}
