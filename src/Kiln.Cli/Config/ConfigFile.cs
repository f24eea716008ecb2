using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Cli.Config;

/// <summary>
/// The config file ($KILN_CONFIG, else $XDG_CONFIG_HOME/kiln/config.json, else
/// ~/.config/kiln/config.json). It holds an API key, so it is only ever written with mode 0600.
/// </summary>
public sealed class ConfigFile(string path)
{
    public string Path { get; } = path;

    public static ConfigFile Locate(Func<string, string?> env)
    {
        var explicitPath = env("KILN_CONFIG");
        if (!string.IsNullOrEmpty(explicitPath))
            return new ConfigFile(explicitPath);
        var configHome = env("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(configHome))
        {
            var home = env("HOME");
            if (string.IsNullOrEmpty(home))
                home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            configHome = System.IO.Path.Combine(home, ".config");
        }
        return new ConfigFile(System.IO.Path.Combine(configHome, "kiln", "config.json"));
    }

    public CliConfig Load()
    {
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return CliConfig.Empty;
        }
        try
        {
            var node = JsonNode.Parse(text) as JsonObject
                ?? throw new UsageException($"config file {Path} does not hold a JSON object");
            return new CliConfig(Read(node, "server"), Read(node, "apiKey"), Read(node, "accountId"));
        }
        catch (JsonException e)
        {
            throw new UsageException($"config file {Path} is not valid JSON ({e.Message}); fix it or run kilnctl login again");
        }
    }

    public void Save(CliConfig config)
    {
        var node = new JsonObject();
        if (config.Server is not null)
            node["server"] = config.Server;
        if (config.ApiKey is not null)
            node["apiKey"] = config.ApiKey;
        if (config.AccountId is not null)
            node["accountId"] = config.AccountId;

        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        // Write a private temporary file and rename it over the old one, so the key is never
        // world-readable and a crash never leaves half a config behind.
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            writer.Write('\n');
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, Path, overwrite: true);
    }

    private static string? Read(JsonObject node, string field) =>
        node[field] is JsonValue value && value.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
}
