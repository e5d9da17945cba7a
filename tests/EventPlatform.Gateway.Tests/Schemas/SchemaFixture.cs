using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests.Schemas;

/// <summary>A broker, a schema registry, and a gateway that validates against it (idempotency off: not what these tests are about).</summary>
public sealed class SchemaFixture : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();
    private IConsumer<byte[]?, byte[]>? _lookup;

    public RegistryServer Registry { get; private set; } = null!;

    public GatewayServer Gateway { get; private set; } = null!;

    public CachedSchemaRegistryClient RegistryClient { get; private set; } = null!;

    public EmbeddedKafkaFixture Kafka => _kafka;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Registry = await RegistryServer.StartAsync(_kafka.Cluster);
        Gateway = await GatewayServer.StartAsync(_kafka.Cluster, GatewayServer.WithRegistry(Registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "false",
        }));
        RegistryClient = new CachedSchemaRegistryClient(Registry.ClientConfig());
        _lookup = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = "schema-lookup",
            FetchWaitMaxMs = 5,
            EnableAutoCommit = false,
        }).Build();
    }

    /// <summary>The record value Kafka holds at exactly this position.</summary>
    public byte[] ValueAt(string topic, int partition, long offset)
    {
        lock (_lookup!)
        {
            _lookup.Assign(new TopicPartitionOffset(topic, partition, offset));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                var record = _lookup.Consume(TimeSpan.FromMilliseconds(200));
                if (record?.Message is not null)
                {
                    return record.Message.Value;
                }
            }

            throw new TimeoutException($"No record at {topic}[{partition}]@{offset}");
        }
    }

    /// <summary>Posts a body with a content type; returns status and parsed answer.</summary>
    public async Task<(int Status, JsonNode? Body)> PostAsync(string topic, byte[] body, string contentType)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await Gateway.Client.PostAsync($"api/v1/events/{topic}", content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public Task<(int Status, JsonNode? Body)> PostJsonAsync(string topic, JsonNode e) =>
        PostAsync(topic, System.Text.Encoding.UTF8.GetBytes(e.ToJsonString()), "application/json");

    /// <summary>Reads a stored value with Confluent's own Avro deserializer (schema fetched by id from the registry).</summary>
    public Task<GenericRecord> DecodeWithConfluentAsync(string topic, byte[] value) =>
        new AvroDeserializer<GenericRecord>(RegistryClient).DeserializeAsync(value, isNull: false, new SerializationContext(MessageComponentType.Value, topic));

    public async Task DisposeAsync()
    {
        _lookup?.Close();
        _lookup?.Dispose();
        RegistryClient.Dispose();
        await Gateway.DisposeAsync();
        await Registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SchemaCollection : ICollectionFixture<SchemaFixture>
{
    public const string Name = "schemas";
}
