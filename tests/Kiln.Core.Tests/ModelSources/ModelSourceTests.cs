using Kiln.Core.ModelSources;

namespace Kiln.Core.Tests.ModelSources;

public class ModelSourceTests
{
    [Theory]
    [InlineData("model.gguf")]
    [InlineData("./tinyllama")]
    [InlineData("/srv/models/tiny.gguf")]
    [InlineData("../shared/models/stories260K.gguf")]
    [InlineData("~/models/x.gguf")]
    [InlineData("C:\\models\\x.gguf")]
    [InlineData("My Model")]
    [InlineData("adapter-folder/")]
    public void Paths_are_local(string text)
    {
        Assert.True(ModelSource.TryParse(text, out var source, out _));
        Assert.Equal(ModelSourceKind.LocalPath, source.Kind);
        Assert.Equal(text, source.Text);
    }

    [Theory]
    [InlineData("tinyllama-1.1b-chat")]
    [InlineData("qwen2.5-0.5b-instruct")]
    [InlineData("stories15m")]
    [InlineData("  smollm2_135m  ")]
    public void Bare_lowercase_names_are_catalog_ids(string text)
    {
        Assert.True(ModelSource.TryParse(text, out var source, out _));
        Assert.Equal(ModelSourceKind.Catalog, source.Kind);
        Assert.Equal(text.Trim(), source.Text);
    }

    [Theory]
    [InlineData("https://example.com/m.gguf")]
    [InlineData("HTTP://example.com:8080/a/b?x=1")]
    public void Http_urls_are_urls(string text)
    {
        Assert.True(ModelSource.TryParse(text, out var source, out _));
        Assert.Equal(ModelSourceKind.Url, source.Kind);
        Assert.Equal(new Uri(text), source.Url);
    }

    [Fact]
    public void Hf_files_map_to_the_resolve_url_of_the_configured_hub()
    {
        Assert.True(ModelSource.TryParse("hf://TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", out var source, out _));
        Assert.Equal(ModelSourceKind.HuggingFace, source.Kind);
        Assert.Equal(new HuggingFaceFile("TheBloke", "TinyLlama-1.1B-Chat-v1.0-GGUF", "main", "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"), source.HuggingFace);
        Assert.Equal("https://huggingface.co/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
            source.HuggingFace!.ResolveUrl(HuggingFaceFile.DefaultBase).AbsoluteUri);
        Assert.Equal("http://127.0.0.1:9000/mirror/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
            source.HuggingFace.ResolveUrl(new Uri("http://127.0.0.1:9000/mirror/")).AbsoluteUri);
    }

    [Fact]
    public void Hf_files_may_name_a_revision_and_a_folder()
    {
        Assert.True(ModelSource.TryParse("hf://ggml-org/models@v1.2/tinyllamas/stories15M q4.gguf", out var source, out _));
        var file = source.HuggingFace!;
        Assert.Equal(("ggml-org", "models", "v1.2", "tinyllamas/stories15M q4.gguf"), (file.Owner, file.Repo, file.Revision, file.Path));
        Assert.Equal("https://huggingface.co/ggml-org/models/resolve/v1.2/tinyllamas/stories15M%20q4.gguf", file.ResolveUrl(HuggingFaceFile.DefaultBase).AbsoluteUri);
        Assert.Equal("hf://ggml-org/models@v1.2/tinyllamas/stories15M q4.gguf", file.ToString());
    }

    [Theory]
    [InlineData("", "a source is required")]
    [InlineData("   ", "a source is required")]
    [InlineData("ftp://host/x.gguf", "the scheme ftp:// is not supported")]
    [InlineData("s3://bucket/x.gguf", "the scheme s3:// is not supported")]
    [InlineData("hf://owner/x.gguf", "hf://<owner>/<repo>[@<revision>]/<file>.gguf")]
    [InlineData("hf://owner//x.gguf", "hf://<owner>/<repo>[@<revision>]/<file>.gguf")]
    [InlineData("hf://owner/repo/model.safetensors", "the file must be a .gguf file")]
    [InlineData("hf://owner/repo/../etc/x.gguf", "'.' or '..'")]
    [InlineData("hf://own er/repo/x.gguf", "the owner \"own er\"")]
    [InlineData("hf://owner/repo@/x.gguf", "the revision \"\"")]
    [InlineData("https://", "is not a valid URL")]
    public void Unusable_sources_are_refused_with_the_reason(string text, string reason)
    {
        Assert.False(ModelSource.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }
}
