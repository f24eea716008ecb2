using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;

namespace Kiln.Store.Tests;

public abstract class ModelTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private static NewModel Llama(string account = "acme", string id = "llama") =>
        new(account, id, ModelKind.HfBaseModel, "/models/llama.gguf", 123_456_789)
        {
            DisplayName = "Llama",
            Sha256 = new string('a', 64),
            Architecture = "llama",
            ContextLength = 8192,
        };

    [StoreFact]
    public async Task Model_crud()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var created = await _t.Store.CreateModelAsync(Llama());
        Assert.Equal("accounts/acme/models/llama", created.Name.ToString());
        Assert.Equal((ModelKind.HfBaseModel, "/models/llama.gguf", 123_456_789L, "llama", 8192, ModelState.Ready),
            (created.Kind, created.FilePath, created.SizeBytes, created.Architecture, created.ContextLength, created.State));
        Assert.Equal(created, await _t.Store.GetModelAsync("acme", "llama"));

        _t.Clock.Advance(TimeSpan.FromSeconds(3));
        var updated = await _t.Store.UpdateModelAsync(created with { State = ModelState.Uploading, DisplayName = "L", SizeBytes = 5 });
        Assert.Equal((ModelState.Uploading, "L", 5L), (updated.State, updated.DisplayName, updated.SizeBytes));
        Assert.Equal(_t.Clock.UtcNow, updated.UpdateTime);

        Assert.True(await _t.Store.DeleteModelAsync("acme", "llama"));
        Assert.False(await _t.Store.DeleteModelAsync("acme", "llama"));
        Assert.Null(await _t.Store.GetModelAsync("acme", "llama"));
    }

    [StoreFact]
    public async Task Duplicate_model_and_missing_account()
    {
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateModelAsync(Llama()))).Code);
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        await _t.Store.CreateModelAsync(Llama());
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateModelAsync(Llama()));
        Assert.Equal(StatusCode.AlreadyExists, e.Code);
        Assert.Equal("model accounts/acme/models/llama already exists", e.Message);
    }

    [StoreFact]
    public async Task A_downloaded_model_keeps_its_source_progress_and_status()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var created = await _t.Store.CreateModelAsync(Llama() with
        {
            State = ModelState.Downloading,
            Source = "tiny-chat",
            SourceUrl = "https://huggingface.co/acme/t/resolve/main/t.gguf",
            ExpectedSha256 = new string('b', 64),
        });
        Assert.Equal(("tiny-chat", "https://huggingface.co/acme/t/resolve/main/t.gguf", new string('b', 64)),
            (created.Source, created.SourceUrl, created.ExpectedSha256));
        Assert.Null(created.Download);
        Assert.Null(created.Status);

        var moving = await _t.Store.UpdateModelAsync(created with { Download = new ModelDownloadProgress(1000, 5000, 250) });
        Assert.Equal(new ModelDownloadProgress(1000, 5000, 250), moving.Download);
        Assert.Equal(["llama"], (await _t.Store.ListModelsInStateAsync(ModelState.Downloading)).Select(m => m.Id));

        var failed = await _t.Store.UpdateModelAsync(moving with
        {
            State = ModelState.Failed,
            Download = null,
            Status = new DeploymentStatus(StatusCode.DataLoss, "checksum mismatch"),
        });
        Assert.Equal((ModelState.Failed, StatusCode.DataLoss, "checksum mismatch"), (failed.State, failed.Status!.Code, failed.Status.Message));
        Assert.Null(failed.Download);
        Assert.Empty(await _t.Store.ListModelsInStateAsync(ModelState.Downloading));
    }

    [StoreFact]
    public async Task An_update_read_before_a_delete_and_recreate_does_not_touch_the_new_model()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var old = await _t.Store.CreateModelAsync(Llama() with { State = ModelState.Downloading });
        await _t.Store.DeleteModelAsync("acme", "llama");
        _t.Clock.Advance(TimeSpan.FromSeconds(1));
        await _t.Store.CreateModelAsync(Llama() with { State = ModelState.Uploading });
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.UpdateModelAsync(old with { State = ModelState.Failed }));
        Assert.Equal(StatusCode.NotFound, e.Code);
        Assert.Equal(ModelState.Uploading, (await _t.Store.GetModelAsync("acme", "llama"))!.State);
    }

    [StoreFact]
    public async Task Deployed_is_never_stored()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.CreateModelAsync(Llama() with { State = ModelState.Deployed }));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
    }

    [StoreFact]
    public async Task A_served_model_cannot_be_deleted()
    {
        await _t.SeedDeploymentAsync();
        await _t.Store.CreateModelAsync(Llama());
        Assert.Equal([new DeploymentName("acme", "d1")], await _t.Store.ListDeploymentsServingAsync(new ModelName("acme", "llama")));
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.DeleteModelAsync("acme", "llama"));
        Assert.Equal(StatusCode.FailedPrecondition, e.Code);
        Assert.Contains("accounts/acme/deployments/d1", e.Message);

        await _t.Store.RequestDeploymentDeletionAsync("acme", "d1");
        Assert.Empty(await _t.Store.ListDeploymentsServingAsync(new ModelName("acme", "llama")));
        Assert.True(await _t.Store.DeleteModelAsync("acme", "llama"));
    }

    [StoreFact]
    public async Task A_base_with_addons_cannot_be_deleted()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        await _t.Store.CreateModelAsync(Llama());
        await _t.Store.CreateModelAsync(new NewModel("acme", "tuned", ModelKind.HfPeftAddon, "/m/lora.gguf", 10) { BaseModel = "accounts/acme/models/llama" });
        var e = await Assert.ThrowsAsync<KilnError>(() => _t.Store.DeleteModelAsync("acme", "llama"));
        Assert.Contains("accounts/acme/models/tuned", e.Message);
    }

    [StoreFact]
    public async Task Models_are_scoped_by_account()
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        await _t.Store.CreateAccountAsync(new NewAccount("other"));
        await _t.Store.CreateModelAsync(Llama());
        await _t.Store.CreateModelAsync(Llama("other", "llama"));
        await _t.Store.CreateModelAsync(Llama("other", "mistral"));
        Assert.Equal(["llama"], (await _t.Store.ListModelsAsync("acme", PageRequest.First)).Items.Select(m => m.Id));
        Assert.Equal(2, (await _t.Store.ListModelsAsync("other", PageRequest.First)).TotalSize);
        Assert.Null(await _t.Store.GetModelAsync("acme", "mistral"));
        Assert.False(await _t.Store.DeleteModelAsync("acme", "mistral"));
    }
}

public sealed class SqliteModelTests() : ModelTests(StoreBackend.Sqlite);

public sealed class PostgresModelTests() : ModelTests(StoreBackend.Postgres);
