using Kiln.Engine.Models;

namespace Kiln.Engine.Lora;

/// <summary>
/// A model that applies LoRA adapters per batch row. Registration may happen on any thread while
/// forward passes run; a registered id is valid in <see cref="Batch"/> rows until unregistered.
/// </summary>
public interface IAdapterHost
{
    /// <summary>The base model's hyperparameters (PEFT adapters need its head counts to load).</summary>
    ModelConfig Config { get; }

    /// <summary>Validates the adapter against the base (<see cref="LoraMismatchException"/>) and returns its id.</summary>
    int RegisterAdapter(LoraAdapter adapter);

    /// <summary>
    /// Forgets an adapter. The caller must ensure no later batch row names it (steps already running
    /// finish with it); the id may be reused by a later registration.
    /// </summary>
    bool UnregisterAdapter(int id);
}
