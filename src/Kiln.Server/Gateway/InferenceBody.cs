using System.Buffers;
using System.Text.Json;

namespace Kiln.Server.Gateway;

/// <summary>
/// The fields of an inference request body the gateway needs (model, stream), and the body to
/// send on: the client's own bytes unless the model name must change.
/// </summary>
public sealed class InferenceBody
{
    private readonly byte[] _bytes;

    private InferenceBody(byte[] bytes, string model, bool stream, RoutingKey routing)
    {
        _bytes = bytes;
        Model = model;
        Stream = stream;
        Routing = routing;
    }

    /// <summary>The <c>model</c> field as sent.</summary>
    public string Model { get; }

    /// <summary>True for a streamed (SSE) response.</summary>
    public bool Stream { get; }

    /// <summary>The body's session (<c>user</c>) or prompt-prefix key for routing.</summary>
    public RoutingKey Routing { get; }

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
            return new InferenceBody(bytes, m.GetString()!, stream, RoutingKey.FromBody(root));
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
        // Only the model's value changes, so the client's other bytes are copied around it as they
        // are: cheaper than rebuilding the document, and nothing else can change by accident.
        var (start, end) = ModelValueRange();
        var value = new ArrayBufferWriter<byte>(replicaModel.Length + 16);
        using (var w = new Utf8JsonWriter(value))
        {
            w.WriteStringValue(replicaModel);
        }
        var copy = new byte[start + value.WrittenCount + (_bytes.Length - end)];
        _bytes.AsSpan(0, start).CopyTo(copy);
        value.WrittenSpan.CopyTo(copy.AsSpan(start));
        _bytes.AsSpan(end).CopyTo(copy.AsSpan(start + value.WrittenCount));
        return copy;
    }

    /// <summary>Where the top-level <c>model</c> string's token (quotes included) starts and ends in the body.</summary>
    private (int Start, int End) ModelValueRange()
    {
        var reader = new Utf8JsonReader(_bytes);
        reader.Read(); // the object Parse checked
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                return ((int)reader.TokenStartIndex, (int)reader.BytesConsumed);
            }
            reader.Skip();
        }
        throw new InvalidOperationException("The parsed body has no model field.");
    }
}
