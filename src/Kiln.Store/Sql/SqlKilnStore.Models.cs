using Kiln.Core.Engines;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string ModelColumns =
        "account, id, display_name, kind, base_model, file_path, sha256, size_bytes, architecture, context_length, state, create_time, update_time, "
        + "source, source_url, expected_sha256, status_code, status_message, download_bytes, download_total, download_rate, format";

    /// <inheritdoc />
    public Task<ModelRecord> CreateModelAsync(NewModel model, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        var name = new ModelName(model.Account, model.Id);
        RequireStoredModelState(model.State);
        if (model.BaseModel is not null)
        {
            ModelName.Parse(model.BaseModel);
        }
        RequireAccount(db, model.Account);
        if (LoadModel(db, model.Account, model.Id) is not null)
        {
            throw KilnError.AlreadyExists("model", name.ToString());
        }
        db.Execute($"""
            INSERT INTO models ({ModelColumns})
            VALUES (@account, @id, @name, @kind, @base, @path, @sha, @size, @arch, @context, @state, @now, @now,
                    @source, @url, @expected, NULL, NULL, NULL, NULL, NULL, @format)
            """,
            ("account", model.Account), ("id", model.Id), ("name", model.DisplayName), ("kind", model.Kind.ToWireName()),
            ("base", model.BaseModel), ("path", model.FilePath), ("sha", model.Sha256), ("size", model.SizeBytes),
            ("arch", model.Architecture), ("context", model.ContextLength), ("state", model.State.ToWireName()), ("now", Columns.Time(now)),
            ("source", model.Source), ("url", model.SourceUrl), ("expected", model.ExpectedSha256),
            ("format", model.Format.ToWireName()));
        return LoadModel(db, model.Account, model.Id)!;
    });

    /// <inheritdoc />
    public Task<ModelRecord?> GetModelAsync(string account, string id, CancellationToken ct = default) => Read(ct, db => LoadModel(db, account, id));

    /// <inheritdoc />
    public Task<Page<ModelRecord>> ListModelsAsync(string account, PageRequest page, CancellationToken ct = default) => Read(ct, db =>
        ListPage(db, $"models/{account}", page, ModelColumns, "models", "account = @account", [("account", account)], "id", MapModel, m => m.Id));

    /// <inheritdoc />
    public Task<ModelRecord> UpdateModelAsync(ModelRecord model, CancellationToken ct = default) => Write(ct, (db, now) =>
    {
        RequireStoredModelState(model.State);
        var changed = db.Execute("""
            UPDATE models SET display_name = @name, file_path = @path, sha256 = @sha, size_bytes = @size, architecture = @arch,
                              context_length = @context, state = @state, update_time = @now, status_code = @status_code, status_message = @status,
                              download_bytes = @bytes, download_total = @total, download_rate = @rate
            WHERE account = @account AND id = @id AND create_time = @created
            """,
            ("name", model.DisplayName), ("path", model.FilePath), ("sha", model.Sha256), ("size", model.SizeBytes),
            ("arch", model.Architecture), ("context", model.ContextLength), ("state", model.State.ToWireName()),
            ("now", Columns.Time(now)), ("account", model.Account), ("id", model.Id), ("created", Columns.Time(model.CreateTime)),
            ("status_code", model.Status?.Code.ToWireName()), ("status", model.Status?.Message), ("bytes", model.Download?.Bytes), ("total", model.Download?.TotalBytes),
            ("rate", model.Download?.BytesPerSecond));
        return changed == 0 ? throw KilnError.NotFound("model", $"accounts/{model.Account}/models/{model.Id}") : LoadModel(db, model.Account, model.Id)!;
    });

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelRecord>> ListModelsInStateAsync(ModelState state, CancellationToken ct = default) =>
        Read<IReadOnlyList<ModelRecord>>(ct, db =>
            db.Query($"SELECT {ModelColumns} FROM models WHERE state = @state ORDER BY account, id", MapModel, ("state", state.ToWireName())));

    /// <inheritdoc />
    public Task<bool> DeleteModelAsync(string account, string id, CancellationToken ct = default) => Write(ct, (db, _) =>
    {
        var name = $"accounts/{account}/models/{id}";
        var users = ServingDeployments(db, name);
        if (users.Count > 0)
        {
            throw KilnError.FailedPrecondition($"model {name} is served by {string.Join(", ", users)}; delete those deployments first");
        }
        var addons = db.Query("SELECT account, id FROM models WHERE base_model = @name ORDER BY account, id",
            r => $"accounts/{r.GetString(0)}/models/{r.GetString(1)}", ("name", name));
        if (addons.Count > 0)
        {
            throw KilnError.FailedPrecondition($"model {name} is the base of {string.Join(", ", addons)}; delete those addons first");
        }
        return db.Execute("DELETE FROM models WHERE account = @account AND id = @id", ("account", account), ("id", id)) > 0;
    });

    private static void RequireStoredModelState(ModelState state)
    {
        if (!state.IsStored())
        {
            throw KilnError.InvalidArgument($"a model is stored as UPLOADING, DOWNLOADING, FAILED or READY, not {state.ToWireName()} (DEPLOYING and DEPLOYED are derived)");
        }
    }

    private static ModelRecord? LoadModel(SqlSession db, string account, string id) =>
        db.QuerySingle($"SELECT {ModelColumns} FROM models WHERE account = @account AND id = @id", MapModel, ("account", account), ("id", id));

    private static ModelRecord MapModel(SqlRow r) => new()
    {
        Account = r.GetString(0),
        Id = r.GetString(1),
        DisplayName = r.GetNullableString(2),
        Kind = Columns.Enum<ModelKind>(r.GetString(3), ModelKinds.TryParse),
        BaseModel = r.GetNullableString(4),
        FilePath = r.GetString(5),
        Sha256 = r.GetNullableString(6),
        SizeBytes = r.GetInt64(7),
        Architecture = r.GetNullableString(8),
        ContextLength = r.GetNullableInt32(9),
        State = Columns.Enum<ModelState>(r.GetString(10), ModelStates.TryParse),
        CreateTime = Columns.Time(r.GetInt64(11)),
        UpdateTime = Columns.Time(r.GetInt64(12)),
        Source = r.GetNullableString(13),
        SourceUrl = r.GetNullableString(14),
        ExpectedSha256 = r.GetNullableString(15),
        Status = r.GetNullableString(16) is { } code ? new DeploymentStatus(Columns.Enum<StatusCode>(code, StatusCodes.TryParse), r.GetNullableString(17) ?? "") : null,
        Download = r.GetNullableInt64(18) is { } bytes ? new ModelDownloadProgress(bytes, r.GetNullableInt64(19), r.GetNullableInt64(20)) : null,
        Format = Columns.Enum<ModelFormat>(r.GetString(21), ModelFormats.TryParse),
    };
}
