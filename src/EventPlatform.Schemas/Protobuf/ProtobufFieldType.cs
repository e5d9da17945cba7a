namespace EventPlatform.Schemas.Protobuf;

/// <summary>A field's declared type, numbered as in descriptor.proto's <c>FieldDescriptorProto.Type</c>.</summary>
public enum ProtobufFieldType
{
    /// <summary>64-bit IEEE float (fixed64 wire type).</summary>
    Double = 1,

    /// <summary>32-bit IEEE float (fixed32 wire type).</summary>
    Float = 2,

    /// <summary>Signed 64-bit varint.</summary>
    Int64 = 3,

    /// <summary>Unsigned 64-bit varint.</summary>
    UInt64 = 4,

    /// <summary>Signed 32-bit varint (negative values take 10 bytes).</summary>
    Int32 = 5,

    /// <summary>Unsigned 64-bit fixed width.</summary>
    Fixed64 = 6,

    /// <summary>Unsigned 32-bit fixed width.</summary>
    Fixed32 = 7,

    /// <summary>Boolean varint.</summary>
    Bool = 8,

    /// <summary>UTF-8 text.</summary>
    String = 9,

    /// <summary>proto2 group (not supported by the codec).</summary>
    Group = 10,

    /// <summary>A nested message.</summary>
    Message = 11,

    /// <summary>Raw bytes.</summary>
    Bytes = 12,

    /// <summary>Unsigned 32-bit varint.</summary>
    UInt32 = 13,

    /// <summary>An enum (varint of the value's number).</summary>
    Enum = 14,

    /// <summary>Signed 32-bit fixed width.</summary>
    SFixed32 = 15,

    /// <summary>Signed 64-bit fixed width.</summary>
    SFixed64 = 16,

    /// <summary>Signed 32-bit zigzag varint.</summary>
    SInt32 = 17,

    /// <summary>Signed 64-bit zigzag varint.</summary>
    SInt64 = 18,
}

/// <summary>The google.protobuf messages that have their own JSON form.</summary>
public enum ProtobufWellKnownType
{
    /// <summary>An ordinary message.</summary>
    None,

    /// <summary>google.protobuf.Timestamp: an RFC 3339 string.</summary>
    Timestamp,

    /// <summary>google.protobuf.Duration: a string such as <c>"1.5s"</c>.</summary>
    Duration,

    /// <summary>google.protobuf.Struct: a JSON object.</summary>
    Struct,

    /// <summary>google.protobuf.Value: any JSON value.</summary>
    Value,

    /// <summary>google.protobuf.ListValue: a JSON array.</summary>
    ListValue,

    /// <summary>One of the wrappers (DoubleValue ... BytesValue): the wrapped value.</summary>
    Wrapper,
}
