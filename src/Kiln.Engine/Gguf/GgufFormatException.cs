namespace Kiln.Engine.Gguf;

/// <summary>A malformed or unsupported GGUF file: names the problem and the byte offset where it was found.</summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException(string problem, long offset)
        : base($"invalid GGUF file: {problem} (at offset {offset})")
    {
        Problem = problem;
        Offset = offset;
    }

    public string Problem { get; }
    public long Offset { get; }
}
