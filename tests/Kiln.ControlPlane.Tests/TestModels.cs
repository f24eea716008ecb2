using Kiln.Engine.Gguf;

namespace Kiln.ControlPlane.Tests;

/// <summary>Small GGUF files for the failure paths.</summary>
public static class TestModels
{
    /// <summary>The shared tiny llama model.</summary>
    public static byte[] Stories260K() => File.ReadAllBytes(SharedFiles.Model("stories260K.gguf"));

    /// <summary>A well-formed GGUF of the given architecture with one tensor but no weights a model needs.</summary>
    public static byte[] Hollow(string architecture)
    {
        var w = new GgufWriter()
            .Add("general.architecture", architecture)
            .Add($"{architecture}.context_length", 128u)
            .AddTensor("output_norm.weight", new float[32], 32);
        using var ms = new MemoryStream();
        w.Write(ms);
        return ms.ToArray();
    }
}
