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
    private readonly JsonObject _root;

    private InferenceBody(byte[] bytes, JsonObject root, string model, bool stream)
    {
        _bytes = bytes;
        _root = root;
        Model = model;
        Stream = stream;
    }

    /// <summary>The <c>model</c> field as sent.</summary>
    public string Model { get; }

    /// <summary>True for a streamed (SSE) response.</summary>
    public bool Stream { get; }


    /// <summary>Parses a body; throws a 400 <see cref="OpenAiError"/> for a malformed one.</summary>
    public static InferenceBody Parse(byte[] bytes)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw OpenAiError.BadRequest($"The request body is not valid JSON: {e.Message}");
        }
        if (node is not JsonObject root)
        {
            throw OpenAiError.BadRequest("The request body must be a JSON object.");
        }
        if (root["model"] is not JsonValue m || m.GetValueKind() != JsonValueKind.String || string.IsNullOrEmpty(m.GetValue<string>()))
        {
            throw OpenAiError.BadRequest("you must provide a model parameter", "model");
        }
        var stream = root["stream"] is JsonValue s && s.GetValueKind() == JsonValueKind.True;
        return new InferenceBody(bytes, root, m.GetValue<string>(), stream);
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
        var copy = (JsonObject)_root.DeepClone();
        copy["model"] = replicaModel;
        return JsonSerializer.SerializeToUtf8Bytes(copy);
    }
}
