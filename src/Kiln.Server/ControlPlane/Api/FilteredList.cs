using System.Globalization;
using System.Text.Json;
using Kiln.Core.Deployments;
using Kiln.Core.Listing;
using Kiln.Core.Models;
using Kiln.Store;

namespace Kiln.Server.ControlPlane.Api;

/// <summary>
/// <c>filter</c> and <c>orderBy</c> on list calls (<see cref="ListQuery"/>): items are matched and
/// ordered on what the API shows (a model's derived DEPLOYED state, a deployment's DELETING once
/// its deletion is requested), so a filter means what the user reads. Such a list renders every
/// item of the account, then pages; without either parameter lists page in the store instead.
/// </summary>
public static class FilteredList
{
    /// <summary>The fields a deployment list may be filtered and ordered by.</summary>
    public static readonly IReadOnlyList<ListField> DeploymentFields =
    [
        new("name", ListFieldKind.String), new("display_name", ListFieldKind.String), new("description", ListFieldKind.String),
        new("base_model", ListFieldKind.String), new("state", ListFieldKind.Enum, Enum.GetValues<DeploymentState>().Select(s => s.ToWireName()).ToList()),
        new("create_time", ListFieldKind.Timestamp), new("update_time", ListFieldKind.Timestamp), new("delete_time", ListFieldKind.Timestamp),
        new("expire_time", ListFieldKind.Timestamp), new("last_request_time", ListFieldKind.Timestamp), new("created_by", ListFieldKind.String),
        new("accelerator_type", ListFieldKind.Enum, AcceleratorTypes.WireNames), new("accelerator_count", ListFieldKind.Number),
        new("precision", ListFieldKind.Enum, Precisions.WireNames), new("min_replica_count", ListFieldKind.Number),
        new("max_replica_count", ListFieldKind.Number), new("desired_replica_count", ListFieldKind.Number),
        new("replica_count", ListFieldKind.Number), new("enable_addons", ListFieldKind.Bool),
        new("engine", ListFieldKind.String), new("max_addon_count", ListFieldKind.Number),
    ];

    /// <summary>The fields a model list may be filtered and ordered by.</summary>
    public static readonly IReadOnlyList<ListField> ModelFields =
    [
        new("name", ListFieldKind.String), new("display_name", ListFieldKind.String),
        new("kind", ListFieldKind.Enum, Enum.GetValues<ModelKind>().Select(k => k.ToWireName()).ToList()),
        new("state", ListFieldKind.Enum, Enum.GetValues<ModelState>().Select(s => s.ToWireName()).ToList()),
        new("base_model", ListFieldKind.String), new("architecture", ListFieldKind.String), new("context_length", ListFieldKind.Number),
        new("size_bytes", ListFieldKind.Number), new("create_time", ListFieldKind.Timestamp), new("update_time", ListFieldKind.Timestamp),
        new("format", ListFieldKind.Enum, Kiln.Core.Engines.ModelFormats.WireNames),
    ];

    /// <summary>The query of a list request, or null when it has neither <c>filter</c> nor <c>orderBy</c>.</summary>
    public static ListQuery? Query(HttpRequest request, IReadOnlyList<ListField> fields, string list)
    {
        var filter = request.Query["filter"].ToString();
        var orderBy = request.Query["orderBy"].ToString();
        return filter.Length == 0 && orderBy.Length == 0 ? null : ListQuery.Parse(filter, orderBy, fields, list);
    }

    /// <summary>Every item of a store list, page after page.</summary>
    public static async Task<List<T>> AllAsync<T>(Func<PageRequest, Task<Page<T>>> list)
    {
        var all = new List<T>();
        string? token = null;
        do
        {
            var page = await list(new PageRequest(PageRequest.MaxPageSize, token));
            all.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null);
        return all;
    }

    /// <summary>The requested page of rendered items.</summary>
    public static ListPage<JsonElement> Page(ListQuery query, IEnumerable<object> rendered, PageRequest page) =>
        query.Page(rendered.Select(r => JsonSerializer.SerializeToElement(r, ApiJson.Options)), Value, r => r.GetProperty("name").GetString() ?? "",
            page.EffectiveSize, page.PageToken);

    // A field is read from the shown JSON by its camelCase name ("create_time" -> "createTime").
    private static FieldValue? Value(JsonElement item, ListField field)
    {
        var parts = field.Name.Split('_');
        var json = parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        if (!item.TryGetProperty(json, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return field.Kind switch
        {
            ListFieldKind.Timestamp => DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? FieldValue.Of(t) : null,
            ListFieldKind.Number => v.ValueKind == JsonValueKind.Number ? FieldValue.Of(v.GetDouble()) : null,
            ListFieldKind.Bool => v.ValueKind is JsonValueKind.True or JsonValueKind.False ? FieldValue.Of(v.GetBoolean()) : null,
            _ => v.ValueKind == JsonValueKind.String ? FieldValue.Of(v.GetString()!, field.Kind) : null,
        };
    }
}
