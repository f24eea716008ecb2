namespace Kiln.Engine.Gguf;

/// <summary>A malformed or unsupported GGUF file: names the problem and the byte offset where it was found.</summary>
public class GgufFormatException : Exception
{
    public GgufFormatException(string problem, long offset)
        : this($"invalid GGUF file: {problem} (at offset {offset})", problem, offset)
    {
    }

    /// <summary>For subclasses that word their message differently; <paramref name="offset"/> is -1 when unknown.</summary>
    protected GgufFormatException(string message, string problem, long offset)
        : base(message)
    {
        Problem = problem;
        Offset = offset;
    }

    public string Problem { get; }

    /// <summary>Byte offset of the problem in the file, or -1 when it has no single place (a missing key or tensor).</summary>
    public long Offset { get; }
}
