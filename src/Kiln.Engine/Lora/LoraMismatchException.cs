namespace Kiln.Engine.Lora;

/// <summary>An adapter that does not fit the base model it is attached to (architecture, tensor or shape).</summary>
public sealed class LoraMismatchException(string message) : Exception(message);
