namespace Kiln.Engine.Serving;

/// <summary>A request the scheduler cannot accept as given; <see cref="Param"/> names the field at fault.</summary>
public sealed class RequestValidationException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;
}

/// <summary>The wait queue is full; the caller should retry later.</summary>
public sealed class QueueFullException(int capacity)
    : Exception($"The server is busy: the request queue is full ({capacity} waiting). Retry later.")
{
    public int Capacity { get; } = capacity;
}
