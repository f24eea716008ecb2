using Kiln.Core.Errors;

namespace Kiln.Server.ControlPlane.Imports;

/// <summary>A download that failed for good: the model turns FAILED with this code and message.</summary>
public sealed class DownloadFailedException(StatusCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>What kind of failure: NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED (disk), DATA_LOSS (checksum), UNAVAILABLE (retries spent)...</summary>
    public StatusCode Code { get; } = code;
}
