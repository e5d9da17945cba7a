namespace EventPlatform.Streaming.Runtime;

/// <summary>What a <see cref="KafkaJobRunner"/> promises about its output (Kafka Streams' <c>processing.guarantee</c>).</summary>
public enum ProcessingGuarantee
{
    /// <summary>
    /// Outputs go through a transactional producer; each checkpoint sends the input offsets to the
    /// transaction and commits it, then writes the checkpoint file. A read_committed consumer of the
    /// outputs on a real cluster sees each result once, at checkpoint pace. On the embedded broker
    /// the transactions run but read_committed is not honoured (see the Streaming README).
    /// </summary>
    ExactlyOnce,

    /// <summary>
    /// An idempotent producer, flushed before each checkpoint: after a crash, output since the last
    /// checkpoint is written again (identical, keyed), so an upserting consumer still sees each result once.
    /// </summary>
    AtLeastOnce,
}
