namespace Kiln.Core.ModelSources;

/// <summary>One file of a Hugging Face repository: <c>hf://owner/repo[@revision]/path/file.gguf</c>.</summary>
/// <param name="Owner">The user or organisation.</param>
/// <param name="Repo">The repository.</param>
/// <param name="Revision">A branch, tag or commit (<c>main</c> when not given).</param>
/// <param name="Path">The file's path in the repository, '/'-separated.</param>
public sealed record HuggingFaceFile(string Owner, string Repo, string Revision, string Path)
{
    /// <summary>The public Hugging Face hub.</summary>
    public static readonly Uri DefaultBase = new("https://huggingface.co/");

    /// <summary>The download URL under <paramref name="hubBase"/>: <c>{base}/owner/repo/resolve/revision/path</c>.</summary>
    public Uri ResolveUrl(Uri hubBase)
    {
        var root = hubBase.AbsoluteUri.TrimEnd('/');
        var path = string.Join('/', Path.Split('/').Select(Uri.EscapeDataString));
        return new Uri($"{root}/{Uri.EscapeDataString(Owner)}/{Uri.EscapeDataString(Repo)}/resolve/{Uri.EscapeDataString(Revision)}/{path}");
    }

    /// <summary>The <c>hf://</c> form.</summary>
    public override string ToString() =>
        Revision == "main" ? $"hf://{Owner}/{Repo}/{Path}" : $"hf://{Owner}/{Repo}@{Revision}/{Path}";
}
