using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Server.Gateway;

/// <summary>
/// The fields of an inference request body the gateway needs (model, stream), and the body to
/// send on: the client's own bytes unless the model name must change.
/// </summary>
public sealed class InferenceBody
{
    private readonly byte[] _bytes;

    private InferenceBody(byte[] bytes, string model, bool stream)
    {
        _bytes = bytes;
        Model = model;
        Stream = stream;
    }

    /// <summary>The <c>model</c> field as sent.</summary>
    public string Model { get; }

    /// <summary>True for a streamed (SSE) response.</summary>
    public bool Stream { get; }

    /// <summary>
    /// Duplicate keys are refused (400), as the replica refuses them: if the gateway and the replica
    /// each picked a value for a repeated key, they could pick different ones.
    /// </summary>
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    /// <summary>Parses a body once (a rewrite parses it again, only when one is needed); throws a 400 <see cref="OpenAiError"/> for a malformed one.</summary>
    public static InferenceBody Parse(byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes, DocumentOptions);
            var root = doc.RootElement;
            // A string that parses but cannot be read would fail later, when the body is rewritten.
            if (Kiln.Server.Replica.JsonFields.FirstUnusable(root, duplicates: false) is { } problem)
            {
                throw OpenAiError.BadRequest($"The request body is not valid JSON: {problem}.");
            }
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiError.BadRequest("The request body must be a JSON object.");
            }
            if (!root.TryGetProperty("model", out var m) || m.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(m.GetString()))
            {
                throw OpenAiError.BadRequest("you must provide a model parameter", "model");
            }
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            return new InferenceBody(bytes, m.GetString()!, stream);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The duplicate-key check reads keys, and throws InvalidOperationException on unreadable ones.
            throw OpenAiError.BadRequest($"The request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// The body for a replica serving <paramref name="replicaModel"/>: the client's own bytes, or
    /// with the model name the replica serves. Usage travels apart (the replica's usage ledger), so
    /// nothing else changes.
    /// </summary>
    public byte[] ForReplica(string replicaModel)
    {
        if (Model == replicaModel)
        {
            return _bytes;
        }
        var copy = (JsonObject)JsonNode.Parse(_bytes)!;
        copy["model"] = replicaModel;
        return JsonSerializer.SerializeToUtf8Bytes(copy);
    }
}
