using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Gateway;
using EventPlatform.SchemaRegistry;
using EventPlatform.Testing;
using Microsoft.AspNetCore.Builder;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// The <c>broker</c> command in a process of its own: to every service it is a Kafka cluster
/// reached over the network, without the mock API and without CreateTopics, which starts without
/// any of the platform's internal topics. That is the production path.
/// </summary>
public sealed class BrokerProcess : IAsyncLifetime
{
    public CliProcess Process { get; private set; } = null!;

    public string BootstrapServers { get; private set; } = null!;

    public async Task InitializeAsync() => (Process, BootstrapServers) = await PlatformProcesses.StartBrokerAsync();

    public async Task DisposeAsync() => await Process.DisposeAsync();
}

public sealed class ProductionPathTests(BrokerProcess broker) : IClassFixture<BrokerProcess>
{
    private const string Topic = "events.iot.sensors";
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private static HttpClient Client(Uri baseAddress, string subject = "production-path")
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token(subject));
        return client;
    }

    private static Task<HttpResponseMessage> PublishAsync(HttpClient client, string eventId, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/events/iot.sensors") { Content = TestEvents.Json(TestEvents.Iot(eventId)) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return client.SendAsync(request);
    }

    private static StringContent SchemaBody(string json) => new(json, Encoding.UTF8, "application/vnd.schemaregistry.v1+json");

    private static async Task<JsonObject> JsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>
    /// Every copy of each event in the topic: the topic is read to the end of every partition and
    /// each record that mentions an id is decoded with Confluent's Avro deserializer.
    /// </summary>
    private async Task<Dictionary<string, List<TopicPartitionOffset>>> CopiesAsync(string registryUrl, IReadOnlyCollection<string> eventIds)
    {
        var records = await KafkaReader.ReadAllAsync(broker.BootstrapServers, Topic, ReadTimeout);
        using var registry = new CachedSchemaRegistryClient(PlatformProcesses.RegistryClientConfig(registryUrl));
        var deserializer = new AvroDeserializer<GenericRecord>(registry);
        var copies = eventIds.ToDictionary(id => id, _ => new List<TopicPartitionOffset>());
        foreach (var record in records)
        {
            var value = record.Message.Value!;
            if (!eventIds.Any(id => value.AsSpan().IndexOf(Encoding.UTF8.GetBytes(id)) >= 0))
            {
                continue;
            }

            var decoded = await deserializer.DeserializeAsync(value, isNull: false, new SerializationContext(MessageComponentType.Value, Topic));
            copies[(string)decoded["event_id"]].Add(record.TopicPartitionOffset);
        }

        return copies;
    }

    private IReadOnlyList<string> TopicsOnCluster()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        return [.. admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic)];
    }

    [Fact]
    public async Task Registry_and_gateway_start_on_a_cluster_without_their_topics_register_the_seed_schemas_and_publish()
    {
        await using var registry = RegistryApp.Create([], PlatformProcesses.InProcessRegistrySettings(broker.BootstrapServers));
        await registry.StartAsync();
        var registryUrl = registry.Urls.First().TrimEnd('/');
        await using var gateway = GatewayApp.Create([], PlatformProcesses.InProcessGatewaySettings(broker.BootstrapServers, registryUrl));
        await gateway.StartAsync();
        using var client = Client(new Uri(gateway.Urls.First()));

        using var http = PlatformProcesses.RegistryClient(new Uri(registryUrl + "/"));
        var subjects = await http.GetFromJsonAsync<string[]>("subjects");
        Assert.Contains("events.iot.sensors-value", subjects!);
        Assert.Contains("payload-iot.sensor", subjects!);

        var id = $"evt_prod_{Guid.NewGuid():N}";
        var accepted = await JsonAsync(await PublishAsync(client, id));

        var copies = (await CopiesAsync(registryUrl, [id]))[id];
        var copy = Assert.Single(copies);
        Assert.Equal(((int)accepted["partition"]!, (long)accepted["offset"]!), (copy.Partition.Value, copy.Offset.Value));
        Assert.Contains("_schemas", TopicsOnCluster());
        Assert.Contains("_eventplatform.idempotency", TopicsOnCluster());
    }

    [Fact]
    public async Task Services_starting_at_once_on_an_empty_cluster_do_not_trip_over_each_other_creating_a_topic()
    {
        var schemas = $"_schemas.race-{Guid.NewGuid():N}";
        var idempotency = $"_idempotency.race-{Guid.NewGuid():N}";
        WebApplication Registry() => RegistryApp.Create([], PlatformProcesses.InProcessRegistrySettings(broker.BootstrapServers, schemas));
        WebApplication Gateway() => GatewayApp.Create([], new Dictionary<string, string?>(PlatformProcesses.InProcessGatewaySettings(broker.BootstrapServers, "http://127.0.0.1:1"))
        {
            ["Gateway:Schemas:Enabled"] = "false",
            ["Gateway:Idempotency:Topic"] = idempotency,
        });
        await using var registryA = Registry();
        await using var registryB = Registry();
        await using var gatewayA = Gateway();
        await using var gatewayB = Gateway();

        await Task.WhenAll(registryA.StartAsync(), registryB.StartAsync(), gatewayA.StartAsync(), gatewayB.StartAsync());

        // Both registries read and write the same log.
        using var a = PlatformProcesses.RegistryClient(new Uri(registryA.Urls.First() + "/"));
        using var b = PlatformProcesses.RegistryClient(new Uri(registryB.Urls.First() + "/"));
        var schema = """{"schema":"{\"type\":\"record\",\"name\":\"Race\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}"}""";
        var written = await a.PostAsync("subjects/race-value/versions", SchemaBody(schema));
        var id = (int)(await JsonAsync(written))["id"]!;
        var read = await b.GetFromJsonAsync<JsonObject>("subjects/race-value/versions/latest");
        Assert.Equal(id, (int)read!["id"]!);
        Assert.Contains(schemas, TopicsOnCluster());
        Assert.Contains(idempotency, TopicsOnCluster());
    }

    [Fact]
    public async Task Up_against_an_external_cluster_becomes_healthy_and_serves_a_publish()
    {
        var (up, gatewayUrl, registryUrl) = await PlatformProcesses.StartUpAsync(broker.BootstrapServers);
        await using var _ = up;
        using var client = Client(gatewayUrl);

        var id = $"evt_up_{Guid.NewGuid():N}";
        var accepted = await JsonAsync(await PublishAsync(client, id));

        Assert.Equal("accepted", (string?)accepted["status"]);
        var copy = Assert.Single((await CopiesAsync(registryUrl.ToString().TrimEnd('/'), [id]))[id]);
        Assert.Equal((long)accepted["offset"]!, copy.Offset.Value);
        Assert.False(up.HasExited, up.Output);
    }

    [Fact]
    public async Task Up_without_the_processor_sink_and_monitor_serves_a_publish_and_says_they_were_not_started()
    {
        var (up, gatewayUrl, _) = await PlatformProcesses.StartUpAsync(broker.BootstrapServers, "--Up:Without=processor, Sink,monitor");
        await using var _ = up;
        using var client = Client(gatewayUrl);
        Assert.Equal("accepted", (string?)(await JsonAsync(await PublishAsync(client, $"evt_without_{Guid.NewGuid():N}")))["status"]);

        await up.WaitForLineAsync(l => l.Contains("Press Ctrl-C", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var summary = up.Output;
        Assert.Equal(3, summary.Split('\n').Count(l => l.Contains("not started (Up:Without)", StringComparison.Ordinal)));
        Assert.DoesNotContain("Stream processor", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("Warehouse sink", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("Kafka exporter", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_refuses_to_leave_out_a_service_the_others_need()
    {
        await using var up = CliProcess.Start("up-without-gateway", ["up", "--Up:Without=gateway,nonsense"], new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = broker.BootstrapServers });
        Assert.Equal(1, await up.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Up:Without names 'gateway', 'nonsense': only processor, sink, monitor can be left out.", up.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killed_services_come_back_with_their_state_events_exactly_once_retries_replayed_schema_ids_kept()
    {
        var (registry, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry#1", broker.BootstrapServers);
        await using var registry1 = registry;
        var (gateway, gatewayUrl) = await PlatformProcesses.StartGatewayAsync("gateway#1", broker.BootstrapServers, registryUrl);
        await using var gateway1 = gateway;

        // Acknowledged events, each under its own idempotency key.
        var run = Guid.NewGuid().ToString("N");
        var events = Enumerable.Range(0, 8).Select(i => (Id: $"evt_kill_{run}_{i}", Key: $"key-{run}-{i}")).ToList();
        var first = new Dictionary<string, JsonObject>();
        using (var client = Client(gatewayUrl))
        {
            foreach (var (id, key) in events)
            {
                first[id] = await JsonAsync(await PublishAsync(client, id, key));
            }
        }

        gateway1.Kill();
        Assert.NotEqual(0, await gateway1.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var (restarted, restartedUrl) = await PlatformProcesses.StartGatewayAsync("gateway#2", broker.BootstrapServers, registryUrl);
        await using var gateway2 = restarted;
        using (var client = Client(restartedUrl))
        {
            foreach (var (id, key) in events)
            {
                using var retry = await PublishAsync(client, id, key);
                var answer = await JsonAsync(retry);
                Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
                Assert.Equal(first[id].ToJsonString(), answer.ToJsonString());
            }
        }

        var copies = await CopiesAsync(registryUrl.ToString().TrimEnd('/'), [.. events.Select(e => e.Id)]);
        Assert.All(events, e => Assert.Single(copies[e.Id]));

        // The registry: ids survive a SIGKILL, and are not handed out again.
        var subject = $"kill-{run}-value";
        var schema = """{"schema":"{\"type\":\"record\",\"name\":\"Killed\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}"}""";
        JsonObject registered;
        JsonObject? seedBefore;
        using (var http = PlatformProcesses.RegistryClient(registryUrl))
        {
            registered = await JsonAsync(await http.PostAsync($"subjects/{subject}/versions", SchemaBody(schema)));
            seedBefore = await http.GetFromJsonAsync<JsonObject>("subjects/events.iot.sensors-value/versions/latest");
        }

        registry1.Kill();
        Assert.NotEqual(0, await registry1.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var (registryAgain, registryAgainUrl) = await PlatformProcesses.StartRegistryAsync("registry#2", broker.BootstrapServers);
        await using var registry2 = registryAgain;
        using var again = PlatformProcesses.RegistryClient(registryAgainUrl);

        var seedAfter = await again.GetFromJsonAsync<JsonObject>("subjects/events.iot.sensors-value/versions/latest");
        Assert.Equal(seedBefore!.ToJsonString(), seedAfter!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync($"schemas/ids/{(int)registered["id"]!}")).StatusCode);
        var reRegistered = await JsonAsync(await again.PostAsync($"subjects/{subject}/versions", SchemaBody(schema)));
        Assert.Equal((int)registered["id"]!, (int)reRegistered["id"]!);
        var other = """{"schema":"{\"type\":\"record\",\"name\":\"AfterKill\",\"fields\":[{\"name\":\"b\",\"type\":\"string\"}]}"}""";
        var fresh = await JsonAsync(await again.PostAsync($"subjects/after-{run}-value/versions", SchemaBody(other)));
        Assert.True((int)fresh["id"]! > (int)registered["id"]!);
    }

    [Fact]
    public async Task A_gateway_killed_under_load_leaves_claims_another_instance_resolves_each_event_exactly_once()
    {
        var (registry, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry#k", broker.BootstrapServers);
        await using var registry1 = registry;
        // A claim may be resolved once older than the longest publish (one attempt of 1 s).
        string[] fast = ["--Kafka:Producer:MessageTimeout=00:00:01", "--Gateway:PublishMaxAttempts=1", "--Gateway:Idempotency:ClaimTimeout=00:00:02", "--Gateway:RateLimit:Enabled=false"];
        // The victim holds each event 300 ms in its producer (its claims are written within 2 ms), so
        // when the kill comes, the requests in flight have claims in the log and events that die with it.
        var (victim, victimUrl) = await PlatformProcesses.StartGatewayAsync("gateway#victim", broker.BootstrapServers, registryUrl, [.. fast, "--Kafka:Producer:LingerMs=300"]);
        await using var victim1 = victim;
        var (other, otherUrl) = await PlatformProcesses.StartGatewayAsync("gateway#other", broker.BootstrapServers, registryUrl, fast);
        await using var other1 = other;

        var run = Guid.NewGuid().ToString("N");
        var events = Enumerable.Range(0, 400).Select(i => (Id: $"evt_sigkill_{run}_{i}", Key: $"key-{run}-{i}")).ToList();
        var acknowledged = 0;
        var killed = new TaskCompletionSource();
        using (var client = Client(victimUrl))
        {
            // 32 at a time: when the kill comes, requests are at every stage, some between their
            // event's acknowledgement and their done entry.
            await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (e, _) =>
            {
                try
                {
                    using var response = await PublishAsync(client, e.Id, e.Key);
                    if (response.IsSuccessStatusCode && Interlocked.Increment(ref acknowledged) == 100)
                    {
                        victim1.Kill();
                        killed.TrySetResult();
                    }
                }
                catch (HttpRequestException)
                {
                    // The gateway is gone: this one is retried below.
                }
                catch (TaskCanceledException)
                {
                }
            });
        }

        await killed.Task.WaitAsync(TimeSpan.FromSeconds(60));
        using (var client = Client(otherUrl))
        {
            await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (e, _) =>
            {
                for (var attempt = 0; ; attempt++)
                {
                    using var retry = await PublishAsync(client, e.Id, e.Key);
                    if (retry.IsSuccessStatusCode)
                    {
                        return;
                    }

                    Assert.True(retry.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable && attempt < 30, $"{retry.StatusCode}: {await retry.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            });
        }

        var copies = await CopiesAsync(registryUrl.ToString().TrimEnd('/'), [.. events.Select(e => e.Id)]);
        Assert.All(events, e => Assert.Single(copies[e.Id]));
        // The kill did leave claims without a result, and the other instance settled them by reading.
        Assert.Contains("Resolved an idempotency claim left without a result", other1.Output, StringComparison.Ordinal);
    }
}

/// <summary>How the service commands end when they cannot start.</summary>
public sealed class StartFailureTests
{
    [Fact]
    public async Task A_gateway_that_cannot_reach_Kafka_exits_with_code_1_and_says_why()
    {
        await using var gateway = CliProcess.Start("gateway-unreachable",
            ["gateway", $"--Gateway:Urls=http://127.0.0.1:{PlatformProcesses.FreePort()}", "--Kafka:AdminTimeout=00:00:02"],
            PlatformProcesses.GatewayEnvironment($"127.0.0.1:{PlatformProcesses.FreePort()}", "http://127.0.0.1:1"));

        var exitCode = await gateway.WaitForExitAsync(PlatformProcesses.StartTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("The gateway did not start:", gateway.Output, StringComparison.Ordinal);
    }
}
