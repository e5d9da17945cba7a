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

/// <summary>
/// A checkpoint store that keeps one checkpoint per partition, for a scaled-out job whose
/// partitions (source and repartition) move between instances one by one. Each partition's store
/// has the <see cref="ICheckpointStore"/> contract on its own; there is no atomicity across
/// partitions, and the scale-out design needs none.
/// </summary>
/// <remarks>
/// Only the instance the consumer group assigned a partition to reads or writes its store; every
/// instance of the job must reach the same stores (one machine: a shared data directory; several
/// machines: a shared store).
/// </remarks>
public interface IPartitionedCheckpointStore : ICheckpointStore
{
    /// <summary>The store of the partition called <paramref name="name"/> (the same store for the same name).</summary>
    ICheckpointStore Partition(string name);
}
