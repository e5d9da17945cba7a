namespace EventPlatform.Streaming.State;

/// <summary>
/// Writes and reads one kind of value (a key or an accumulator) in a snapshot. A reader must
/// bound what it allocates by using <see cref="SnapshotReader"/>'s checked reads, so that a
/// corrupt snapshot fails with <see cref="SnapshotFormatException"/>.
/// </summary>
public interface IStateSerializer<T>
{
    /// <summary>Appends <paramref name="value"/> to the snapshot.</summary>
    void Write(SnapshotWriter writer, T value);

    /// <summary>Reads a value written by <see cref="Write"/>.</summary>
    T Read(SnapshotReader reader);
}

/// <summary>Serializers for common key types.</summary>
public static class StateSerializers
{
    /// <summary>UTF-8 strings.</summary>
    public static IStateSerializer<string> String { get; } = new StringSerializer();

    /// <summary>64-bit integers.</summary>
    public static IStateSerializer<long> Int64 { get; } = new Int64Serializer();

    private sealed class StringSerializer : IStateSerializer<string>
    {
        public void Write(SnapshotWriter writer, string value) => writer.WriteString(value);

        public string Read(SnapshotReader reader) => reader.ReadString();
    }

    private sealed class Int64Serializer : IStateSerializer<long>
    {
        public void Write(SnapshotWriter writer, long value) => writer.WriteInt64(value);

        public long Read(SnapshotReader reader) => reader.ReadInt64();
    }
}
