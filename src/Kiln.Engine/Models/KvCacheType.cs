namespace Kiln.Engine.Models;

/// <summary>Element type of the KV cache. F32 reproduces reference logits; F16 halves its memory.</summary>
public enum KvCacheType
{
    F32,
    F16,
}
