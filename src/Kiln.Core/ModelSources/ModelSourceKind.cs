namespace Kiln.Core.ModelSources;

/// <summary>Where a model's weights come from, as <c>import model --from</c> names it.</summary>
public enum ModelSourceKind
{
    /// <summary>A file (or, later, a folder or archive) on the client's disk: the client uploads it.</summary>
    LocalPath,
    /// <summary>An <c>http(s)://</c> URL the server downloads.</summary>
    Url,
    /// <summary><c>hf://owner/repo[@revision]/path/file.gguf</c>: a file of a Hugging Face repository, which the server downloads.</summary>
    HuggingFace,
    /// <summary>An entry of Kiln's model catalog, by its ID.</summary>
    Catalog,
}
