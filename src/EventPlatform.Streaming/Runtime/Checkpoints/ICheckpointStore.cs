namespace EventPlatform.Streaming.Runtime.Checkpoints;

/// <summary>
/// Where a job's checkpoints live. An implementation must make <see cref="Save"/> atomic: after a
/// crash at any moment, <see cref="Load"/> returns either the new checkpoint or the one before,
/// never a mix. The data-directory store is <see cref="FileCheckpointStore"/>; a shared store (for
/// instances on many machines) implements the same contract.
/// </summary>
/// <remarks>Called from the job's consume loop thread only; implementations need not be thread-safe.</remarks>
public interface ICheckpointStore
{
    /// <summary>The newest intact checkpoint, or null when there is none.</summary>
    Checkpoint? Load();

    /// <summary>Replaces the newest checkpoint with <paramref name="checkpoint"/>, atomically and durably.</summary>
    void Save(Checkpoint checkpoint);

    /// <summary>
    /// Moves the stored checkpoints out of the way (kept for inspection, never loaded again), e.g.
    /// because they belong to another cluster or job definition.
    /// </summary>
    void SetAside(string reason);
}
