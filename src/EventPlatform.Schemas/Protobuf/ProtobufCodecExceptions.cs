namespace EventPlatform.Schemas.Protobuf;

/// <summary>A value the Protobuf codec cannot convert, with the path of the field it is in.</summary>
public abstract class ProtobufCodecException : FormatException
{
    /// <summary>Creates the exception.</summary>
    protected ProtobufCodecException(string reason, string fieldPath, Exception? innerException)
        : base(reason, innerException)
    {
        Reason = reason;
        FieldPath = fieldPath;
    }

    /// <summary>The path of the field, e.g. <c>payload.fields["a"].list_value.values[2]</c> (empty: the message itself).</summary>
    public string FieldPath { get; private set; }

    /// <inheritdoc/>
    public override string Message => FieldPath.Length == 0 ? Reason : $"Field '{FieldPath}': {Reason}";

    /// <summary>What is wrong, without the path.</summary>
    public string Reason { get; }

    /// <summary>
    /// Puts one more segment in front of the path; false, for use in exception filters. Each level
    /// of nesting adds its segment from a filter as the exception passes: catching and throwing a new
    /// exception at every level would nest one exception dispatch per level on the stack, and 64
    /// levels of that overflow it.
    /// </summary>
    internal bool AddOuter(string segment)
    {
        FieldPath = FieldPath.Length == 0 ? segment : segment + (FieldPath[0] == '[' ? string.Empty : ".") + FieldPath;
        return false;
    }
}

/// <summary>Protobuf bytes that do not match their message type (truncated, bad lengths, invalid values).</summary>
public sealed class ProtobufDecodeException : ProtobufCodecException
{
    /// <summary>Creates the exception for a problem in the message itself.</summary>
    public ProtobufDecodeException(string reason)
        : base(reason, string.Empty, null)
    {
    }


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

    /// <summary>The same exception located in a field.</summary>
    internal ProtobufEncodeException Within(string segment)
    {
        AddOuter(segment);
        return this;
    }
}
