using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Engine.Tokenizers;
using Kiln.Server.Replica;

namespace Kiln.Server;

/// <summary>
/// Turns a GGUF file into what a replica serves. This is the one place where the model forward
/// pass, the GGUF tokenizer and the model's chat template get wired in.
/// </summary>
public static class ModelLoader
{
    public static (ILanguageModel Model, ITokenizer Tokenizer, IChatFormatter ChatFormatter) Load(ReplicaOptions options)
    {
        using var gguf = GgufFile.Open(options.ModelPath);
        var architecture = gguf.GetString("general.architecture") ?? "(unknown)";
        // The forward pass and tokenizers are built in their own modules; until they are linked in
        // here, a replica reports this through /health instead of serving.
        throw new NotSupportedException(
            $"{Path.GetFileName(options.ModelPath)}: architecture '{architecture}' cannot be served: this build has no forward pass or tokenizer linked into ModelLoader.");
    }
}
