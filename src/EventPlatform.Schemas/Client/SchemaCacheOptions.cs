namespace EventPlatform.Schemas.Client;

/// <summary>How <see cref="SchemaCache"/> uses the schema registry; each host binds it from its own section.</summary>
public class SchemaCacheOptions
{
    /// <summary>How long a subject's latest version is used before it is looked up again (in the background).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one registry request may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
