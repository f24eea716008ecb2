namespace Kiln.Server.Gateway;

/// <summary>The OpenAI-compatible routes of the gateway, which answer errors in OpenAI's shape.</summary>
public static class InferencePaths
{
    /// <summary>The prefixes an OpenAI client may use as its base URL.</summary>
    public static readonly string[] Prefixes = ["/inference/v1", "/v1"];

    /// <summary>True for a path the gateway serves (completions, chat completions, models).</summary>
    public static bool IsInference(PathString path)
    {
        var p = path.Value ?? "";
        if (p.StartsWith("/inference/", StringComparison.Ordinal))
        {
            return true;
        }
        return p is "/v1/completions" or "/v1/chat/completions" or "/v1/models" || p.StartsWith("/v1/models/", StringComparison.Ordinal);
    }
}
