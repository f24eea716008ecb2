namespace Kiln.Engine.Serving;

/// <summary>Why a sequence ended.</summary>
public enum FinishReason
{
    /// <summary>End-of-generation token or a stop string.</summary>
    Stop,
    /// <summary>max_tokens or the end of the context.</summary>
    Length,
    /// <summary>The caller went away.</summary>
    Cancelled,
    /// <summary>The model failed.</summary>
    Error,
}

public static class FinishReasonNames
{
    /// <summary>The OpenAI spelling used in responses and metric labels.</summary>
    public static string ToApiString(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Cancelled => "cancelled",
        _ => "error",
    };
}
