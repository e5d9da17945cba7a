using System.Net;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using static EventPlatform.SchemaRegistry.Tests.Registry.Rest;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>Kafka, the registry's store, taken down through the mock cluster's API.</summary>
public sealed class StoreOutageTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task Writes_fail_with_Confluents_store_error_while_Kafka_is_down_reads_go_on_and_nothing_is_doubled()
    {
        await using var registry = await RegistryServer.StartAsync(_kafka.Cluster, settings: new Dictionary<string, string?> { ["Registry:WriteTimeout"] = "00:00:03" });
        var subject = RegistryFixture.NewSubject("outage");
        Assert.Equal(200, (await PostAsync(registry.Client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1))).Status);

        _kafka.Cluster.SetAllBrokersDown();
        try
        {
            var (status, body) = await PostAsync(registry.Client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V2));
            Assert.Equal(500, status);
            Assert.Contains(ErrorCode(body), new[] { 50001, 50002 });
            Assert.Contains("Kafka store", body!["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(200, (await GetAsync(registry.Client, $"subjects/{subject}/versions/latest")).Status);
        }
        finally
        {
            _kafka.Cluster.SetAllBrokersUp();
        }

        // Back: the client retries, as Confluent's clients do on 5xx, and the version exists once.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        int last;
        do
        {
            last = (await PostAsync(registry.Client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V2))).Status;
        }
        while (last != 200 && DateTime.UtcNow < deadline);

        Assert.Equal(200, last);
        Assert.Equal([1, 2], (await GetAsync(registry.Client, $"subjects/{subject}/versions")).Body!.AsArray().Select(n => n!.GetValue<int>()));
    }

    [Fact]
    public async Task Readiness_is_503_naming_the_store_while_Kafka_is_down_and_200_when_it_is_back_and_liveness_stays_200()
    {
        await using var registry = await RegistryServer.StartAsync(_kafka.Cluster);
        await WaitForReadinessAsync(registry.Client, HttpStatusCode.OK);

        _kafka.Cluster.SetAllBrokersDown();
        try
        {
            var report = await WaitForReadinessAsync(registry.Client, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Unhealthy", (string?)report["checks"]!["schema-store"]!["status"]);
            using var live = await registry.Client.GetAsync("health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            _kafka.Cluster.SetAllBrokersUp();
        }

        var back = await WaitForReadinessAsync(registry.Client, HttpStatusCode.OK);
        Assert.Equal("Healthy", (string?)back["checks"]!["schema-store"]!["status"]);
    }

    private static async Task<JsonNode> WaitForReadinessAsync(HttpClient http, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await http.GetAsync("health/ready");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == status)
            {
                return JsonNode.Parse(body)!;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Readiness did not become {(int)status}: {(int)response.StatusCode} {body}");
            await Task.Delay(200);
        }
    }
}
