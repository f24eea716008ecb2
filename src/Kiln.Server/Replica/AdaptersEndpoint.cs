using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kiln.Server.Replica;

/// <summary>
/// <c>/v1/adapters</c>: load (POST), list (GET) and unload (DELETE, name in the path, slashes allowed)
/// the LoRA adapters served beside the base model.
/// </summary>
internal static class AdaptersEndpoint
{
    public static async Task LoadAsync(HttpContext ctx, ReplicaState state)
    {
        var adapters = state.RequireSession().RequireAdapters();
        using var body = await RequestBody.ReadAsync(ctx);
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw ApiException.Invalid("The request body must be a JSON object.");
        var name = JsonFields.String(root, "name") ?? throw ApiException.Invalid("'name' is required.", "name", "missing_required_parameter");
        var path = JsonFields.String(root, "path") ?? throw ApiException.Invalid("'path' is required.", "path", "missing_required_parameter");
        var scale = (float)(JsonFields.Number(root, "scale", -1000, 1000) ?? 1.0);
        // Reading and checking the file is blocking work; keep it off the request pipeline's thread.
        var info = await Task.Run(() => adapters.Load(name, path, scale), ctx.RequestAborted);
        await ApiResponses.WriteJsonAsync(ctx, 200, w => Write(w, info));
    }

    public static Task ListAsync(HttpContext ctx, ReplicaState state)
    {
        var adapters = state.RequireSession().RequireAdapters().List();
        return ApiResponses.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var a in adapters) Write(w, a);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public static async Task UnloadAsync(HttpContext ctx, ReplicaState state)
    {
        var adapters = state.RequireSession().RequireAdapters();
        var name = ctx.Request.RouteValues["name"] as string ?? "";
        await adapters.UnloadAsync(name, ctx.RequestAborted);
        await ApiResponses.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("object", "adapter");
            w.WriteBoolean("deleted", true);
            w.WriteEndObject();
        });
    }

    private static void Write(Utf8JsonWriter w, AdapterInfo a)
    {
        w.WriteStartObject();
        w.WriteString("name", a.Name);
        w.WriteString("object", "adapter");
        w.WriteString("path", a.Path);
        w.WriteNumber("scale", a.Scale);
        w.WriteString("state", a.Unloading ? "unloading" : "loaded");
        w.WriteNumber("active_requests", a.ActiveRequests);
        w.WriteEndObject();
    }
}
