using System.Net;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_under_load_loses_no_acknowledged_event()
    {
        var kafka = new EmbeddedKafkaFixture();
        await kafka.InitializeAsync();
        try
        {
            var gateway = await GatewayServer.StartAsync(kafka.Cluster);
            var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
            var started = new TaskCompletionSource();
            var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; ; i++)
                {
                    var id = $"evt_{worker}_{i}";
                    try
                    {
                        var response = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot(id, deviceId: $"d{i % 50}")));
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged.Add(id);
                            if (acknowledged.Count >= 200)
                            {
                                started.TrySetResult();
                            }
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the server has stopped listening
                    }
                }
            })).ToArray();

            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await gateway.DisposeAsync();
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);

            var expected = acknowledged.ToHashSet();
            // Requests in flight when the client was disposed may be in Kafka too, unacknowledged:
            // read until every acknowledged event is seen, not until a count of records.
            static string EventId(Confluent.Kafka.ConsumeResult<byte[]?, byte[]> r) => (string)Responses.ParseRecord(r)["event_id"]!;
            var records = await KafkaReader.ReadAsync(kafka.BootstrapServers, "events.iot.sensors",
                r => r.Count >= expected.Count && expected.IsSubsetOf(r.Select(EventId)), TimeSpan.FromSeconds(30));
            var written = records.Select(EventId).ToHashSet();
            Assert.Empty(expected.Except(written));
        }
        finally
        {
            await kafka.DisposeAsync();
        }
    }
}
