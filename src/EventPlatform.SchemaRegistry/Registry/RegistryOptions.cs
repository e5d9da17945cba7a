using System.ComponentModel.DataAnnotations;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>Settings of the registry service (section <c>Registry</c>).</summary>
public sealed class RegistryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Registry";

    /// <summary>
    /// Where the REST API listens (Confluent's default port), loopback only unless told otherwise:
    /// <c>http://0.0.0.0:8081</c> (or <c>http://+:8081</c>) for every interface, as containers set it.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:8081";

    /// <summary>The Kafka topic holding the registry's state (one partition, like Confluent's <c>_schemas</c>).</summary>
    [Required]
    public string Topic { get; set; } = "_schemas";

    /// <summary>How long a write may wait for Kafka to acknowledge it and for it to be read back.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The largest request body the REST API reads (bytes); larger ones get 413 with Confluent's error
    /// body. Schemas are text, and the largest real ones are a few hundred kilobytes.
    /// </summary>
    [Range(1024, int.MaxValue)]
    public long MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The compatibility level of a registry whose log holds no global configuration.</summary>
    public string DefaultCompatibility { get; set; } = "BACKWARD";
}
