using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>One embedded broker and one registry for the registry tests; tests use their own subjects.</summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public RegistryServer Registry { get; private set; } = null!;

    public EmbeddedKafkaFixture Kafka => _kafka;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Registry = await RegistryServer.StartAsync(_kafka.Cluster);
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    /// <summary>A subject no other test uses.</summary>
    public static string NewSubject(string name = "test") => $"{name}-{Guid.NewGuid():N}-value";
}

[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registry";
}

/// <summary>Raw REST calls, to check bodies and codes exactly as a curl user sees them.</summary>
internal static class Rest
{
    public static async Task<(int Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = body is string text
                ? new StringContent(text, System.Text.Encoding.UTF8, "application/vnd.schemaregistry.v1+json")
                : JsonContent.Create(body);
        }

        using var response = await client.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        JsonNode? node = null;
        try
        {
            node = content.Length == 0 ? null : JsonNode.Parse(content);
        }
        catch (JsonException)
        {
            node = JsonValue.Create(content);
        }

        return ((int)response.StatusCode, node);
    }

    public static Task<(int Status, JsonNode? Body)> GetAsync(HttpClient client, string path) => SendAsync(client, HttpMethod.Get, path);

    public static Task<(int Status, JsonNode? Body)> PostAsync(HttpClient client, string path, object body) => SendAsync(client, HttpMethod.Post, path, body);

    public static Task<(int Status, JsonNode? Body)> PutAsync(HttpClient client, string path, object body) => SendAsync(client, HttpMethod.Put, path, body);

    public static Task<(int Status, JsonNode? Body)> DeleteAsync(HttpClient client, string path) => SendAsync(client, HttpMethod.Delete, path);

    public static object AvroBody(string schema, object? references = null) =>
        references is null ? new { schema } : new { schema, references };

    public static int ErrorCode(JsonNode? body) => body?["error_code"]?.GetValue<int>() ?? -1;
}

/// <summary>Avro schemas used across the registry tests.</summary>
internal static class TestSchemas
{
    public const string V1 = """{"type":"record","name":"Event","namespace":"com.platform.events","fields":[{"name":"event_id","type":"string"},{"name":"timestamp","type":"long"}]}""";

    // Adds a field with a default: BACKWARD compatible with V1.
    public const string V2 = """{"type":"record","name":"Event","namespace":"com.platform.events","fields":[{"name":"event_id","type":"string"},{"name":"timestamp","type":"long"},{"name":"user_id","type":["null","string"],"default":null}]}""";

    // Adds a field without a default: not BACKWARD compatible with V1.
    public const string NoDefault = """{"type":"record","name":"Event","namespace":"com.platform.events","fields":[{"name":"event_id","type":"string"},{"name":"timestamp","type":"long"},{"name":"amount","type":"double"}]}""";

    public static string Record(string name, params string[] fields) =>
        $$"""{"type":"record","name":"{{name}}","fields":[{{string.Join(",", fields.Select(f => $$"""{"name":"{{f}}","type":"string"}"""))}}]}""";
}
