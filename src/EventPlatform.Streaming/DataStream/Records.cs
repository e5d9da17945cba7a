namespace EventPlatform.Streaming.DataStream;

/// <summary>One input partition of a job: a topic and a partition number.</summary>
public readonly record struct SourcePartition(string Topic, int Partition)
{
    /// <inheritdoc />
    public override string ToString() => $"{Topic}[{Partition}]";
}

/// <summary>
/// A record read from a source topic, as the runtime hands it to a job: where it came from, its
/// key and value bytes and the broker's timestamp (epoch milliseconds). Kafka-free, so that jobs
/// can be run over lists in tests.
/// </summary>
public sealed record SourceRecord(string Topic, int Partition, long Offset, byte[]? Key, byte[] Value, long Timestamp);

/// <summary>
/// A record a job writes to an output topic. <see cref="Timestamp"/> is the element's event time
/// (a window result's is the window's last timestamp), so that a replay writes the same record.
/// </summary>
public sealed record OutputRecord(string Topic, byte[]? Key, byte[] Value, long Timestamp);

/// <summary>Receives a job's output records in the job's deterministic order.</summary>
public interface IJobOutput
{
    /// <summary>One record for <see cref="OutputRecord.Topic"/>.</summary>
    void Write(OutputRecord record);
}

/// <summary>Names a side output of a <c>Process</c> step; two tags with the same id are the same output.</summary>
/// <typeparam name="T">The side output's element type.</typeparam>
public sealed record OutputTag<T>
{
    /// <summary>Creates a tag; <paramref name="id"/> is part of the job's fingerprint.</summary>
    public OutputTag(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Id = id;
    }

    /// <summary>The tag's identity.</summary>
    public string Id { get; }
}
