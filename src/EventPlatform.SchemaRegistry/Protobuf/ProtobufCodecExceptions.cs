namespace EventPlatform.SchemaRegistry.Protobuf;

/// <summary>A value the Protobuf codec cannot convert, with the path of the field it is in.</summary>
public abstract class ProtobufCodecException : FormatException
{
    /// <summary>Creates the exception.</summary>
    protected ProtobufCodecException(string reason, string fieldPath, Exception? innerException)
        : base(fieldPath.Length == 0 ? reason : $"Field '{fieldPath}': {reason}", innerException)
    {
        Reason = reason;
        FieldPath = fieldPath;
    }

    /// <summary>The path of the field, e.g. <c>payload.fields["a"].list_value.values[2]</c> (empty: the message itself).</summary>
    public string FieldPath { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Reason { get; }

    /// <summary>The path with one more segment in front.</summary>
    private protected string PathWithin(string segment) =>
        FieldPath.Length == 0 ? segment : segment + (FieldPath[0] == '[' ? string.Empty : ".") + FieldPath;
}

/// <summary>Protobuf bytes that do not match their message type (truncated, bad lengths, invalid values).</summary>
public sealed class ProtobufDecodeException : ProtobufCodecException
{
    /// <summary>Creates the exception for a problem in the message itself.</summary>
    public ProtobufDecodeException(string reason)
        : base(reason, string.Empty, null)
    {
    }

    private ProtobufDecodeException(string reason, string fieldPath, Exception? innerException)
        : base(reason, fieldPath, innerException)
    {
    }

    /// <summary>The same problem one level further out.</summary>
    internal ProtobufDecodeException Within(string segment) => new(Reason, PathWithin(segment), InnerException);
}

/// <summary>JSON that cannot be encoded as its message type (unknown field, wrong JSON kind, out of range).</summary>
public sealed class ProtobufEncodeException : ProtobufCodecException
{
    /// <summary>Creates the exception for a problem in the message itself.</summary>
    public ProtobufEncodeException(string reason)
        : base(reason, string.Empty, null)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ProtobufEncodeException(string reason, Exception innerException)
        : base(reason, string.Empty, innerException)
    {
    }

    private ProtobufEncodeException(string reason, string fieldPath, Exception? innerException)
        : base(reason, fieldPath, innerException)
    {
    }

    /// <summary>The same problem one level further out.</summary>
    internal ProtobufEncodeException Within(string segment) => new(Reason, PathWithin(segment), InnerException);
}
