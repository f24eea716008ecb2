using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Names;

namespace Kiln.Store.Sql;

public abstract partial class SqlKilnStore
{
    private const string DeployedModelColumns = "account, id, model, deployment, state, create_time, update_time, status_code, status_message";

    /// <inheritdoc />
    public Task<DeployedModelRecord> CreateDeployedModelAsync(NewDeployedModel deployed, int defaultMaxPerDeployment, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var (account, id) = (deployed.Account, deployed.Id);
            ResourceNames.RequireValidId(id, "deployed model");
            if (LoadModel(db, account, deployed.ModelId) is null)
            {
                throw KilnError.NotFound("model", $"accounts/{account}/models/{deployed.ModelId}");
            }
            var deployment = LoadDeployment(db, account, deployed.DeploymentId)
                ?? throw KilnError.NotFound("deployment", $"accounts/{account}/deployments/{deployed.DeploymentId}");
            if (deployment.DeleteTime is not null || deployment.State.IsGoingAway())
            {
                throw KilnError.FailedPrecondition($"deployment {deployment.Name} is {deployment.State.ToWireName()}; it takes no addons");
            }
            var existing = db.QuerySingle(
                $"SELECT {DeployedModelColumns} FROM deployed_models WHERE account = @account AND model = @model AND deployment = @deployment",
                MapDeployedModel, ("account", account), ("model", deployed.ModelId), ("deployment", deployed.DeploymentId));
            if (existing is not null)
            {
                throw KilnError.AlreadyExists("deployed model",
                    $"{existing.Name} (model {existing.ModelName} on {existing.DeploymentName}, {existing.State.ToWireName()})");
            }
            var count = db.Scalar("SELECT COUNT(*) FROM deployed_models WHERE account = @account AND deployment = @deployment",
                ("account", account), ("deployment", deployed.DeploymentId));
            // Checked in the transaction that adds the record, against the limit it reads.
            var limit = deployment.Spec.MaxAddonCount ?? defaultMaxPerDeployment;
            if (count >= limit)
            {
                throw KilnError.FailedPrecondition(
                    $"deployment {deployment.Name} already serves {count} addon(s), its maxAddonCount ({limit}); undeploy one first "
                    + $"or raise it (kilnctl update deployment {deployment.Id} --max-addon-count N)");
            }
            if (GetDeployedModel(db, account, id) is not null)
            {
                throw KilnError.AlreadyExists("deployed model", $"accounts/{account}/deployedModels/{id}");
            }
            db.Execute($"INSERT INTO deployed_models ({DeployedModelColumns}) VALUES (@account, @id, @model, @deployment, @state, @now, @now, NULL, NULL)",
                ("account", account), ("id", id), ("model", deployed.ModelId), ("deployment", deployed.DeploymentId),
                ("state", DeployedModelState.Deploying.ToWireName()), ("now", Columns.Time(now)));
            return GetDeployedModel(db, account, id)!;
        });

    /// <inheritdoc />
    public Task<DeployedModelRecord?> GetDeployedModelAsync(string account, string id, CancellationToken ct = default) =>
        Read(ct, db => GetDeployedModel(db, account, id));

    /// <inheritdoc />
    public Task<Page<DeployedModelRecord>> ListDeployedModelsAsync(
        string account, PageRequest page, string? modelId = null, string? deploymentId = null, CancellationToken ct = default) => Read(ct, db =>
        {
            var where = "account = @account";
            var args = new List<(string, object?)> { ("account", account) };
            if (modelId is not null)
            {
                where += " AND model = @model";
                args.Add(("model", modelId));
            }
            if (deploymentId is not null)
            {
                where += " AND deployment = @deployment";
                args.Add(("deployment", deploymentId));
            }
            // The scope binds page tokens to the filter they were issued for.
            var scope = $"deployedModels/{account}/{modelId}/{deploymentId}";
            return ListPage(db, scope, page, DeployedModelColumns, "deployed_models", where, [.. args], "id", MapDeployedModel, m => m.Id);
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<DeployedModelRecord>> ListDeployedModelsOnAsync(string account, string deploymentId, CancellationToken ct = default) =>
        Read<IReadOnlyList<DeployedModelRecord>>(ct, db => db.Query(
            $"SELECT {DeployedModelColumns} FROM deployed_models WHERE account = @account AND deployment = @deployment ORDER BY id",
            MapDeployedModel, ("account", account), ("deployment", deploymentId)));

    /// <inheritdoc />
    public Task<IReadOnlyList<DeployedModelRecord>> ListAllDeployedModelsAsync(CancellationToken ct = default) =>
        Read<IReadOnlyList<DeployedModelRecord>>(ct, db => db.Query(
            $"SELECT {DeployedModelColumns} FROM deployed_models ORDER BY account, deployment, id", MapDeployedModel));

    /// <inheritdoc />
    public Task<DeployedModelRecord> SetDeployedModelStateAsync(string account, string id, DeployedModelState state, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var current = GetDeployedModel(db, account, id) ?? throw KilnError.NotFound("deployed model", $"accounts/{account}/deployedModels/{id}");
            if (current.State == state)
            {
                return current;
            }
            if (current.State == DeployedModelState.Undeploying)
            {
                throw KilnError.FailedPrecondition($"deployed model {current.Name} is being undeployed");
            }
            // Loaded everywhere: an earlier refusal no longer applies.
            var clear = state == DeployedModelState.Deployed ? ", status_code = NULL, status_message = NULL" : "";
            db.Execute($"UPDATE deployed_models SET state = @state, update_time = @now{clear} WHERE account = @account AND id = @id",
                ("state", state.ToWireName()), ("now", Columns.Time(now)), ("account", account), ("id", id));
            return GetDeployedModel(db, account, id)!;
        });

    /// <inheritdoc />
    public Task<DeployedModelRecord?> SetDeployedModelStatusAsync(string account, string id, DeploymentStatus? status, CancellationToken ct = default) =>
        Write(ct, (db, now) =>
        {
            var current = GetDeployedModel(db, account, id);
            if (current is null || current.Status == status)
            {
                return current;
            }
            db.Execute("UPDATE deployed_models SET status_code = @code, status_message = @message, update_time = @now WHERE account = @account AND id = @id",
                ("code", status?.Code.ToWireName()), ("message", status?.Message), ("now", Columns.Time(now)), ("account", account), ("id", id));
            return GetDeployedModel(db, account, id);
        });

    /// <inheritdoc />
    public Task<bool> DeleteDeployedModelAsync(string account, string id, CancellationToken ct = default) =>
        Write(ct, (db, _) => db.Execute("DELETE FROM deployed_models WHERE account = @account AND id = @id", ("account", account), ("id", id)) > 0);

    private static DeployedModelRecord? GetDeployedModel(SqlSession db, string account, string id) =>
        db.QuerySingle($"SELECT {DeployedModelColumns} FROM deployed_models WHERE account = @account AND id = @id", MapDeployedModel,
            ("account", account), ("id", id));

    private static DeployedModelRecord MapDeployedModel(SqlRow r) => new()
    {
        Account = r.GetString(0),
        Id = r.GetString(1),
        ModelId = r.GetString(2),
        DeploymentId = r.GetString(3),
        State = Columns.Enum<DeployedModelState>(r.GetString(4), DeployedModelStates.TryParse),
        CreateTime = Columns.Time(r.GetInt64(5)),
        UpdateTime = Columns.Time(r.GetInt64(6)),
        Status = r.GetNullableString(7) is { } code
            ? new DeploymentStatus(Columns.Enum<StatusCode>(code, StatusCodes.TryParse), r.GetNullableString(8) ?? "")
            : null,
    };
}
