using System.Net;
using Kiln.Core.Errors;
using Kiln.Engine.Gguf;
using Kiln.Engine.Models;
using Kiln.Server;
using Kiln.Server.ControlPlane;
using Kiln.Server.ControlPlane.Api;

namespace Kiln.ControlPlane.Tests;

/// <summary>Import runs the load's own checks, and uploads leave no temporary files behind.</summary>
public class ModelImportTests
{
    public static TheoryData<string, object, string> Unloadable() => new()
    {
        { "llama.context_length", 0u, "llama.context_length" },
        { "llama.context_length", 2147483648u, "llama.context_length" },
        { "llama.embedding_length", 0u, "llama.embedding_length" },
        { "llama.embedding_length", 63u, "llama.attention.head_count" },
        { "llama.attention.head_count", 0u, "llama.attention.head_count" },
        { "llama.attention.head_count", 3u, "llama.attention.head_count" },
        { "tokenizer.chat_template", "{% if %}", "tokenizer.chat_template" },
    };

    [Theory]
    [MemberData(nameof(Unloadable))]
    public async Task A_model_that_cannot_load_is_refused_with_its_reason(string key, object value, string field)
    {
        using var dir = new TempDir();
        var destination = Path.Combine(dir.Path, "models", "default", "m.gguf");
        var e = await Assert.ThrowsAsync<KilnError>(() =>
            ModelUpload.ReceiveAsync(new MemoryStream(TestModels.Tiny(new Dictionary<string, object> { [key] = value })), destination, default));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain(dir.Path, e.Message);
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_loadable_model_is_stored_with_its_facts()
    {
        using var dir = new TempDir();
        var destination = Path.Combine(dir.Path, "m.gguf");
        var result = await ModelUpload.ReceiveAsync(new MemoryStream(TestModels.Tiny()), destination, default);
        Assert.Equal(("llama", 64), (result.Architecture, result.ContextLength));
        Assert.Equal([destination], Directory.EnumerateFiles(dir.Path));

        // What import accepts, the replica's loader loads.
        var (model, tokenizer, _) = ModelLoader.Load(new Server.Replica.ReplicaOptions { ModelPath = destination, MaxBatchSize = 1, Threads = 1 });
        using (model)
        {
            Assert.Equal(tokenizer.VocabSize, model.Info.VocabSize);
        }
    }

    [Fact]
    public void The_loader_refuses_what_import_refuses_with_the_same_words()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.gguf");
        File.WriteAllBytes(path, TestModels.Tiny(new Dictionary<string, object> { ["llama.attention.head_count"] = 3u }));
        var load = Assert.Throws<ModelValidationException>(() => ModelLoader.Load(new Server.Replica.ReplicaOptions { ModelPath = path }));
        using var gguf = GgufFile.Open(path);
        Assert.Equal(load.Message, Assert.Throws<ModelValidationException>(() => ModelLoader.Validate(gguf)).Message);
        Assert.Equal("llama.attention.head_count", load.Field);
    }

    [Fact]
    public async Task An_upload_that_fails_midway_leaves_no_part_file()
    {
        using var dir = new TempDir();
        var destination = Path.Combine(dir.Path, "m.gguf");
        await Assert.ThrowsAsync<IOException>(() => UploadedFile.ReceiveAsync(new FailingStream(1 << 20), destination, default));
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ModelUpload.ReceiveAsync(new FailingStream(1 << 20), destination, cancel.Token));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Opening_the_data_directory_removes_stale_part_files()
    {
        using var dir = new TempDir();
        var account = Path.Combine(dir.Path, "models", "default");
        Directory.CreateDirectory(Path.Combine(account, "addon"));
        string[] stale = [Path.Combine(account, $".m.gguf.{Guid.NewGuid():N}.part"), Path.Combine(account, "addon", $".adapter.gguf.{Guid.NewGuid():N}.part")];
        string[] kept = [Path.Combine(account, "m.gguf"), Path.Combine(account, "addon", "adapter.gguf"), Path.Combine(dir.Path, "kiln.db")];
        foreach (var f in stale.Concat(kept)) File.WriteAllText(f, "x");

        var data = new DataDirectory(dir.Path);
        Assert.Equal(2, data.RemovedStaleUploads);
        Assert.All(stale, f => Assert.False(File.Exists(f), f));
        Assert.All(kept, f => Assert.True(File.Exists(f), f));
    }

    [Fact]
    public async Task The_server_refuses_unloadable_imports_and_sweeps_part_files_when_it_starts()
    {
        using var server = await KilnServer.StartWithFakeReplicaAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        Assert.Equal("READY", (await Steps.ImportAsync(api, "default", "tiny", TestModels.Tiny())).State());

        var bad = await Steps.ImportAsync(api, "default", "bad", TestModels.Tiny(new Dictionary<string, object> { ["llama.context_length"] = 0u }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal("INVALID_ARGUMENT", bad.Code);
        Assert.Contains("llama.context_length", bad.Message);
        Assert.DoesNotContain(server.DataDir, bad.Message);
        Assert.Equal("UPLOADING", (await api.GetAsync("/v1/accounts/default/models/bad")).State());

        var noTensors = await Steps.ImportAsync(api, "default", "empty", TestModels.Tiny(tensors: false));
        Assert.Equal(HttpStatusCode.BadRequest, noTensors.Status);
        Assert.Contains("token_embd.weight", noTensors.Message);

        var models = Path.Combine(server.DataDir, "models", "default");
        Assert.Empty(Directory.EnumerateFiles(models, "*.part"));
        // A server killed mid-upload leaves its temporary file; the next start removes it.
        var stale = Path.Combine(models, $".big.gguf.{Guid.NewGuid():N}.part");
        File.WriteAllText(stale, "half an upload");
        server.Crash();
        await server.RestartAsync();
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(Path.Combine(models, "tiny.gguf")));
    }

    /// <summary>A request body that breaks after some bytes, as when the client goes away.</summary>
    private sealed class FailingStream(int failAfter) : Stream
    {
        private int _read;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_read >= failAfter) throw new IOException("the client went away");
            var n = Math.Min(count, failAfter - _read);
            _read += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("kiln-import-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
