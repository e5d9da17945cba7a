namespace EventPlatform.Gateway.Api;

/// <summary>The formats a single event may be posted in (Property 3).</summary>
public enum InputFormat
{
    /// <summary><c>application/json</c>.</summary>
    Json,

    /// <summary>Avro in Confluent's wire format.</summary>
    Avro,

    /// <summary>Protobuf in Confluent's wire format.</summary>
    Protobuf,
}

/// <summary>The media types of the binary formats.</summary>
public static class InputFormats
{
    /// <summary>Confluent REST Proxy's name for Avro.</summary>
    public const string AvroMediaType = "application/vnd.kafka.avro.v2+binary";

    /// <summary>The short name for Avro.</summary>
    public const string AvroShortMediaType = "avro/binary";

    /// <summary>Protobuf.</summary>
    public const string ProtobufMediaType = "application/x-protobuf";

    /// <summary>Confluent REST Proxy's name for Protobuf.</summary>
    public const string ProtobufKafkaMediaType = "application/vnd.kafka.protobuf.v2+binary";
}
