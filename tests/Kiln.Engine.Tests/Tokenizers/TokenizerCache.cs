using System.Collections.Concurrent;
using Kiln.Engine.Gguf;
using Kiln.Engine.Tokenizers;

namespace Kiln.Engine.Tests.Tokenizers;

/// <summary>Tokenizers of the shared vocab and model files, built once per test run.</summary>
internal static class TokenizerCache
{
    private static readonly ConcurrentDictionary<string, Lazy<ITokenizer>> Cache = new();

    public static ITokenizer Get(string path) =>
        Cache.GetOrAdd(path, p => new Lazy<ITokenizer>(() =>
        {
            using var file = GgufFile.Open(p);
            return TokenizerFactory.FromGguf(file);
        })).Value;

    public static ITokenizer Vocab(string name) => Get(SharedFiles.GoldenFile("vocab", name));

    public static ITokenizer Model(string name) => Get(SharedFiles.Model(name));
}
