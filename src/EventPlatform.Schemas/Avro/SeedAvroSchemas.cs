namespace EventPlatform.Schemas.Avro;

/// <summary>The seed's Avro schemas, for the registry to register at start-up.</summary>
public static class SeedAvroSchemas
{
    /// <summary>The platform's event record (design: "Schema Registry").</summary>
    public const string Event = """{"type":"record","name":"Event","namespace":"com.platform.events","fields":[{"name":"event_id","type":"string"},{"name":"timestamp","type":"long"},{"name":"event_type","type":"string"},{"name":"user_id","type":["null","string"],"default":null},{"name":"device_id","type":["null","string"],"default":null},{"name":"payload","type":"string"}]}""";

    /// <summary>The event's first evolution: an optional <c>metadata</c> field appended (compatible both ways).</summary>
    public const string EventWithMetadata = """{"type":"record","name":"Event","namespace":"com.platform.events","fields":[{"name":"event_id","type":"string"},{"name":"timestamp","type":"long"},{"name":"event_type","type":"string"},{"name":"user_id","type":["null","string"],"default":null},{"name":"device_id","type":["null","string"],"default":null},{"name":"payload","type":"string"},{"name":"metadata","type":["null","string"],"default":null}]}""";
}
