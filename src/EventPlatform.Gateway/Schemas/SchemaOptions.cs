using EventPlatform.Schemas.Client;

namespace EventPlatform.Gateway.Schemas;

/// <summary>How the gateway uses the schema registry (section <c>Gateway:Schemas</c>).</summary>
public sealed class SchemaOptions : SchemaCacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Schemas";

    /// <summary>
    /// Validate every event against its topic's registered schema and write it in the Confluent
    /// wire format. Needs SCHEMA_REGISTRY_URL. Off: events are checked against the seed's event
    /// model only and written as plain canonical JSON (for running without any registry).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Register the seed's schemas (idempotently) when the gateway starts.</summary>
    public bool RegisterSeedSchemas { get; set; } = true;
}
