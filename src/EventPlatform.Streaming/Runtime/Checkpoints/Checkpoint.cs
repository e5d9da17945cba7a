using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Runtime.Checkpoints;

/// <summary>
/// What a job needs to resume exactly where it was: the next offset of every input partition and
/// the job's whole state (watermark tracker and every window operator) as of the same moment, with
/// the cluster and job definition they belong to. Restoring applies both together or neither.
/// </summary>
/// <param name="ClusterId">The Kafka cluster the offsets belong to.</param>
/// <param name="JobName">The job's <see cref="StreamJob.Name"/>.</param>
/// <param name="Fingerprint">The job's <see cref="StreamJob.Fingerprint"/>.</param>
/// <param name="CreatedAt">When it was written (informational).</param>
/// <param name="Offsets">The next offset to read per input partition.</param>
/// <param name="State">The job's state from <see cref="JobInstance.WriteState"/>.</param>
public sealed record Checkpoint(
    string ClusterId,
    string JobName,
    string Fingerprint,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<SourcePartition, long> Offsets,
    byte[] State)
{
    private static ReadOnlySpan<byte> Magic => "EPCKPT"u8;

    private const byte FormatVersion = 1;
    private const int MaxPartitions = 1 << 20;

    /// <summary>
    /// The file format: <c>EPCKPT</c>, a version byte, cluster id, job name, fingerprint, creation
    /// time, the offsets sorted by topic and partition, the state block, and a CRC-32 of all that.
    /// </summary>
    public byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(Magic);
        var writer = new SnapshotWriter(buffer);
        writer.WriteByte(FormatVersion);
        writer.WriteString(ClusterId);
        writer.WriteString(JobName);
        writer.WriteString(Fingerprint);
        writer.WriteInt64(CreatedAt.ToUnixTimeMilliseconds());
        writer.WriteInt32(Offsets.Count);
        foreach (var (partition, offset) in Offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition))
        {
            writer.WriteString(partition.Topic);
            writer.WriteInt32(partition.Partition);
            writer.WriteInt64(offset);
        }
        writer.WriteBytes(State);
        writer.WriteInt32(unchecked((int)Crc32.HashToUInt32(buffer.WrittenSpan)));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads what <see cref="Serialize"/> wrote; a torn, corrupt or unknown file ends in <see cref="SnapshotFormatException"/>.</summary>
    public static Checkpoint Deserialize(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        if (span.Length < Magic.Length + 5 || !span.StartsWith(Magic))
        {
            throw new SnapshotFormatException("Not a checkpoint: the file does not start with EPCKPT or is too short.");
        }
        var expected = unchecked((uint)BinaryPrimitives.ReadInt32LittleEndian(span[^4..]));
        if (Crc32.HashToUInt32(span[..^4]) != expected)
        {
            throw new SnapshotFormatException("The checkpoint's CRC-32 does not match: it is torn or corrupt.");
        }
        var reader = new SnapshotReader(bytes[Magic.Length..^4]);
        reader.ExpectVersion(FormatVersion, "checkpoint");
        var clusterId = reader.ReadString();
        var jobName = reader.ReadString();
        var fingerprint = reader.ReadString();
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        var count = reader.ReadCount(MaxPartitions, bytesPerItem: 16);
        var offsets = new Dictionary<SourcePartition, long>(count);
        for (var i = 0; i < count; i++)
        {
            var partition = new SourcePartition(reader.ReadString(), reader.ReadInt32());
            var offset = reader.ReadInt64();
            reader.Check(partition.Partition >= 0 && offset >= 0, "a negative partition or offset");
            reader.Check(offsets.TryAdd(partition, offset), "a partition twice");
        }
        var state = reader.ReadBytes(int.MaxValue).ToArray();
        reader.ExpectEnd();
        return new Checkpoint(clusterId, jobName, fingerprint, createdAt, offsets, state);
    }
}
