namespace EventPlatform.Streaming.State;

/// <summary>A snapshot is truncated, corrupt, of an unknown version or of another definition.</summary>
public sealed class SnapshotFormatException : FormatException
{
    /// <summary>Creates the exception with a message naming what was wrong.</summary>
    public SnapshotFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception without detail.</summary>
    public SnapshotFormatException() : base("The snapshot is corrupt.")
    {
    }

    /// <summary>Creates the exception wrapping the cause.</summary>
    public SnapshotFormatException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
