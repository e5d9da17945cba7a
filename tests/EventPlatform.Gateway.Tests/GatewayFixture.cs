using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>One embedded broker and one gateway on real HTTP, shared by the <see cref="GatewayCollection"/>.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();
    private IConsumer<byte[]?, byte[]>? _lookup;

    public GatewayServer Server { get; private set; } = null!;

    public HttpClient Client => Server.Client;

    public string BootstrapServers => _kafka.BootstrapServers;

    public EmbeddedKafkaFixture Kafka => _kafka;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Server = await GatewayServer.StartAsync(_kafka.Cluster);
        _lookup = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "lookup",
            FetchWaitMaxMs = 5,
            TopicMetadataRefreshIntervalMs = 1000,
            EnableAutoCommit = false,
        }).Build();
    }

    /// <summary>The record Kafka holds at exactly this position (a fresh read from the broker).</summary>
    public ConsumeResult<byte[]?, byte[]> RecordAt(string topic, int partition, long offset)
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
                    return record;
                }
            }

            throw new TimeoutException($"No record at {topic}[{partition}]@{offset}");
        }
    }

    public async Task DisposeAsync()
    {
        _lookup?.Close();
        _lookup?.Dispose();
        await Server.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

/// <summary>Reading API answers in tests.</summary>
public static class Responses
{
    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>())!;

    public static JsonObject ParseRecord(ConsumeResult<byte[]?, byte[]> record) =>
        JsonNode.Parse(record.Message.Value)!.AsObject();

    public static void AssertIsErrorResponse(JsonObject body, string expectedCode)
    {
        Assert.Equal(expectedCode, (string?)body["error_code"]);
        Assert.False(string.IsNullOrEmpty((string?)body["message"]));
        Assert.True(body.ContainsKey("details"));
        Assert.True(DateTimeOffset.TryParse((string?)body["timestamp"], System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.StartsWith("req_", (string?)body["request_id"], StringComparison.Ordinal);
    }

    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
