namespace EventPlatform.Processor.Input;

/// <summary>
/// One record as the processor consumed it, independent of the Kafka client: where it came from,
/// its raw key and value, its headers and the broker's timestamp.
/// </summary>
/// <remarks>
/// The byte arrays are the client's buffers: an accepted event slices <see cref="Value"/> without
/// copying, so the arrays must not be reused while the event is in use.
/// </remarks>
public sealed record ConsumedRecord(
    string Topic,
    int Partition,
    long Offset,
    byte[]? Key,
    byte[]? Value,
    IReadOnlyList<KeyValuePair<string, byte[]?>> Headers,
    DateTimeOffset KafkaTimestamp);
