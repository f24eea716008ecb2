using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.ModelFiles;
using Kiln.Core.Models;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>A model as the API shows it, with DEPLOYED derived from live deployments.</summary>
public static class ModelJson
{
    /// <summary>The JSON object of <paramref name="m"/>.</summary>
    public static async Task<object> RenderAsync(IKilnStore store, ModelRecord m, CancellationToken ct)
    {
        var serving = await store.ListDeploymentsServingAsync(m.Name, ct);
        var refs = new List<object>();
        var loading = new HashSet<string>(StringComparer.Ordinal);
        if (m.Kind.IsAddon())
        {
            // An addon's refs are its deployed models, with their own load state.
            var deployed = await store.ListDeployedModelsAsync(m.Account, new PageRequest(PageRequest.MaxPageSize), m.Id, ct: ct);
            refs.AddRange(deployed.Items.Select(d => new { name = d.Name, deployment = d.DeploymentName, state = d.State.ToWireName() }));
            loading.UnionWith(deployed.Items.Where(d => d.State == DeployedModelState.Deploying).Select(d => d.DeploymentId));
        }
        // Deployments of the model itself (an addon's merged into its base) follow.
        var states = new List<DeploymentState>();
        foreach (var d in serving)
        {
            if (await store.GetDeploymentAsync(d.Account, d.Deployment, ct) is { } live)
            {
                // An addon not yet loaded on a READY deployment's replicas (or refused by them) does not serve yet.
                states.Add(d.Account == m.Account && loading.Contains(d.Deployment) ? DeploymentState.Creating : live.State);
            }
        }
        foreach (var d in m.Kind.IsAddon() ? await MergedDeploymentsAsync(store, m, serving, ct) : serving)
        {
            var deployment = await store.GetDeploymentAsync(d.Account, d.Deployment, ct);
            refs.Add(new
            {
                name = $"accounts/{d.Account}/deployedModels/{d.Deployment}",
                deployment = d.ToString(),
                state = deployment?.State == DeploymentState.Ready ? "DEPLOYED" : "DEPLOYING",
            });
        }
        return new
        {
            name = m.Name.ToString(),
            displayName = m.DisplayName,
            kind = m.Kind.ToWireName(),
            format = Kiln.Core.Engines.ModelFormats.ToWireName(m.Format),
            state = ModelStates.Derive(m.State, states).ToWireName(),
            baseModel = m.BaseModel,
            sha256 = m.Sha256,
            sizeBytes = m.SizeBytes,
            architecture = m.Architecture,
            contextLength = m.ContextLength,
            source = m.Source,
            status = m.Status is { } st ? new { code = st.Code.ToWireName(), message = st.Message } : null,
            download = m.State == ModelState.Downloading ? DownloadJson(m.Download) : null,
            createTime = ApiJson.Time(m.CreateTime),
            updateTime = ApiJson.Time(m.UpdateTime),
            deployedModelRefs = refs,
        };
    }

    /// <summary>A download's progress: bytes so far, the total once known, the recent speed and the time left at it (a protobuf duration).</summary>
    private static object DownloadJson(ModelDownloadProgress? d) => new
    {
        receivedBytes = d?.Bytes ?? 0,
        totalBytes = d?.TotalBytes,
        bytesPerSecond = d?.BytesPerSecond,
        eta = TransferRate.Eta(d?.Bytes ?? 0, d?.TotalBytes, d?.BytesPerSecond) is { } eta ? Kiln.Core.Time.ProtoDuration.Format(eta) : null,
    };

    private static async Task<IReadOnlyList<Kiln.Core.Names.DeploymentName>> MergedDeploymentsAsync(
        IKilnStore store, ModelRecord addon, IReadOnlyList<Kiln.Core.Names.DeploymentName> serving, CancellationToken ct)
    {
        var merged = new List<Kiln.Core.Names.DeploymentName>();
        foreach (var d in serving)
        {
            if ((await store.GetDeploymentAsync(d.Account, d.Deployment, ct))?.Spec.BaseModel == addon.Name.ToString())
            {
                merged.Add(d);
            }
        }
        return merged;
    }
}
