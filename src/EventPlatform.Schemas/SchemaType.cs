namespace EventPlatform.Schemas;

/// <summary>The schema types of Confluent Schema Registry, with Confluent's wire names.</summary>
public enum SchemaType
{
    /// <summary>Apache Avro (the default when a request names no type).</summary>
    AVRO,

    /// <summary>JSON Schema.</summary>
    JSON,

    /// <summary>Protocol Buffers (proto2/proto3).</summary>
    PROTOBUF,
}
