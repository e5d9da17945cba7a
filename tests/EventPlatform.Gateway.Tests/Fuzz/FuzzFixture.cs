using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Tests.Fuzz;

/// <summary>
/// The gateway as <c>up</c> runs it (schemas validated against a registry, idempotency on), on
/// real HTTP against its own embedded broker, so that what the fuzz suite writes can be counted.
/// </summary>
public sealed class FuzzFixture : IAsyncLifetime
{
    /// <summary>Every answer must come within this, even on a busy two-core machine.</summary>
    public static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(5);

    public const string Topic = "events.iot.sensors";

    private readonly EmbeddedKafkaFixture _kafka = new();
    private IConsumer<byte[]?, byte[]>? _watermarks;
    private long _eventSequence;

    public RegistryServer Registry { get; private set; } = null!;

    public GatewayServer Gateway { get; private set; } = null!;

    public HttpClient Client => Gateway.Client;

    /// <summary>The id of the seed's Avro event schema with metadata (version 2 of the topic's subject).</summary>
    public int AvroSchemaId { get; private set; }

    /// <summary>The id of the seed's Protobuf event schema, registered for these tests.</summary>
    public int ProtobufSchemaId { get; private set; }

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Registry = await RegistryServer.StartAsync(_kafka.Cluster);
        Gateway = await GatewayServer.StartAsync(_kafka.Cluster, GatewayServer.WithRegistry(Registry));
        await Gateway.App.Services.GetRequiredService<SeedSchemaRegistration>().Registered;

        using var registry = new CachedSchemaRegistryClient(Registry.ClientConfig());
        AvroSchemaId = (await registry.GetLatestSchemaAsync(Topic + "-value")).Id;
        ProtobufSchemaId = await registry.RegisterSchemaAsync("fuzz-protobuf-event", new Schema(SeedProtobufSchemas.Event, Confluent.SchemaRegistry.SchemaType.Protobuf));
        _watermarks = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "fuzz-watermarks" }).Build();
    }

    /// <summary>A valid event of the topic, unique per call, with a timestamp the gateway accepts.</summary>
    public JsonObject ValidEvent(string? label = null) => new()
    {
        ["event_id"] = $"evt_fuzz_{Interlocked.Increment(ref _eventSequence)}_{Guid.NewGuid():N}",
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = "iot.sensor",
        ["user_id"] = "user_789",
        ["device_id"] = "device_456",
        ["payload"] = new JsonObject { ["temperature"] = 22.5, ["humidity"] = 65.0, ["label"] = label ?? "fuzz" },
        ["metadata"] = new JsonObject { ["source"] = "fuzz", ["n"] = 1 },
    };

    /// <summary>The event in Confluent's wire format with the seed's Avro schema.</summary>
    public byte[] AvroBody(JsonObject e)
    {
        var encoder = new AvroJsonEncoder(((ParsedAvroSchema)AvroFormat.Instance.Parse(SeedAvroSchemas.EventWithMetadata, [])).Schema);
        return Encode(e, AvroSchemaId, (root, output) => Assert.True(encoder.Encode(root, output).IsValid));
    }

    /// <summary>The event in Confluent's wire format with the seed's Protobuf schema.</summary>
    public byte[] ProtobufBody(JsonObject e)
    {
        var message = ((ParsedProtobufSchema)ProtobufFormat.Instance.Parse(SeedProtobufSchemas.Event, [])).GetMessage([0]);
        return Encode(e, ProtobufSchemaId, (root, output) =>
        {
            ProtobufMessageIndexes.Write([0], output);
            ProtobufJsonTranscoder.Encode(root, message, output);
        });
    }

    private static byte[] Encode(JsonObject e, int id, Action<JsonElement, IBufferWriter<byte>> body)
    {
        using var document = JsonDocument.Parse(e.ToJsonString());
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, id);
        body(document.RootElement, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>How many records the topic holds (the sum of its partitions' high watermarks).</summary>
    public long RecordsIn(string topic) => EndsOf(topic).Total;

    /// <summary>Each partition's high watermark (indexed by partition id) and their sum.</summary>
    public (long[] Partitions, long Total) EndsOf(string topic)
    {
        lock (_watermarks!)
        {
            if (!_partitions.TryGetValue(topic, out var partitions))
            {
                using var admin = new DependentAdminClientBuilder(_watermarks.Handle).Build();
                partitions = [.. admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId)];
                _partitions[topic] = partitions;
            }

            var ends = new long[partitions.Max() + 1];
            foreach (var p in partitions)
            {
                ends[p] = _watermarks.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value;
            }

            return (ends, ends.Sum());
        }
    }

    private readonly Dictionary<string, int[]> _partitions = [];

    /// <summary>
    /// Sends a request and checks what every answer must be: no 5xx, within <see cref="AnswerBound"/>,
    /// and an <c>ErrorResponse</c> on a 4xx. A dropped connection throws here and fails the test.
    /// </summary>
    public async Task<FuzzAnswer> SendAsync(HttpRequestMessage request, HttpClient? client = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await (client ?? Client).SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        var elapsed = Stopwatch.GetElapsedTime(started);
        var answer = new FuzzAnswer((int)response.StatusCode, body, response.Headers.Contains("Idempotent-Replayed"), elapsed, !response.Headers.Contains("X-Request-ID"));
        answer.AssertAcceptable(request.Method + " " + request.RequestUri);
        return answer;
    }

    public Task<FuzzAnswer> PostAsync(string path, byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content });
    }

    /// <summary>After a fuzz run: health answers 200 and a valid event is still published.</summary>
    public async Task AssertStillServingAsync()
    {
        var health = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "api/v1/health"));
        Assert.Equal(200, health.Status);
        var accepted = await PostAsync("api/v1/events/iot.sensors", Encoding.UTF8.GetBytes(ValidEvent().ToJsonString()), "application/json");
        Assert.Equal(200, accepted.Status);
    }

    public async Task DisposeAsync()
    {
        _watermarks?.Dispose();
        await Gateway.DisposeAsync();
        await Registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

/// <summary>One answer of the gateway to a fuzzed request.</summary>
/// <param name="FromKestrel">
/// The answer came from Kestrel itself, not the application (no request id): a request that is not
/// valid HTTP, refused before any middleware runs, with an empty body.
/// </param>
public sealed record FuzzAnswer(int Status, byte[] Body, bool Replayed, TimeSpan Elapsed, bool FromKestrel)
{
    /// <summary>A single event that was written to Kafka (not refused, not a replay of an earlier one).</summary>
    public bool Wrote => Status == 200 && !Replayed;

    public void AssertAcceptable(string what)
    {
        Assert.True(Status < 500, $"{what} answered {Status}: {Encoding.UTF8.GetString(Body)}");
        Assert.True(Elapsed < FuzzFixture.AnswerBound, $"{what} took {Elapsed.TotalMilliseconds:0} ms");
        if (FromKestrel)
        {
            // Request line over 8 KiB (414), headers over 32 KiB (431), or a target or framing Kestrel refuses (400).
            Assert.True(Status is 400 or 414 or 431, $"{what}: {Status} without a request id");
            return;
        }

        if (Status >= 400)
        {
            AssertErrorResponse(Body, what + " " + Status);
        }
    }

    /// <summary>The seed's ErrorResponse: error_code, message, details, timestamp, request_id.</summary>
    public static void AssertErrorResponse(byte[] body, string what)
    {
        JsonObject error;
        try
        {
            error = JsonNode.Parse(body)!.AsObject();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException)
        {
            Assert.Fail($"{what}: the body is not an ErrorResponse: '{Encoding.UTF8.GetString(body)}'");
            return;
        }

        Assert.False(string.IsNullOrEmpty((string?)error["error_code"]), what);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]), what);
        Assert.True(error.ContainsKey("details"), what);
        Assert.True(DateTimeOffset.TryParse((string?)error["timestamp"], System.Globalization.CultureInfo.InvariantCulture, out _), what);
        Assert.False(string.IsNullOrEmpty((string?)error["request_id"]), what);
    }

    public string? ErrorCode => Status >= 400 ? (string?)JsonNode.Parse(Body)?["error_code"] : null;
}

[CollectionDefinition(Name)]
public sealed class FuzzCollection : ICollectionFixture<FuzzFixture>
{
    public const string Name = "fuzz";
}
