using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Core.Events;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// <c>eventplatform_end_to_end_latency_seconds</c> starts at the gateway's acceptance (its
/// <see cref="AcceptedAtHeader"/>), not at the event's own time, which may be hours old; a
/// record whose header is missing or hostile falls back to its Kafka timestamp.
/// </summary>
public sealed class AcceptanceLatencyTests(SinkFixture fixture) : IClassFixture<SinkFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sink-latency-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_latency_runs_from_the_accepted_at_header_and_hostile_headers_fall_back_to_the_record_timestamp()
    {
        var topic = fixture.NewTopic(partitions: 1);
        var now = DateTimeOffset.UtcNow;
        byte[][] hostile = [[], "abc"u8.ToArray(), "-5"u8.ToArray(), "12 3"u8.ToArray(), Encoding.ASCII.GetBytes(new string('9', 20)), [0xff, 0xfe, 0x31]];
        using (var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig { BootstrapServers = fixture.Cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < 20; i++)
            {
                // The event's time (and so the record's timestamp) is 2024: only the header says it was accepted now.
                producer.Produce(topic, new Message<string?, byte[]>
                {
                    Value = SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("acc_" + i), fixture.EventSchemaId),
                    Timestamp = new Timestamp(new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero)),
                    Headers = new Headers { { AcceptedAtHeader.Name, AcceptedAtHeader.Format(now) } },
                });
            }

            for (var i = 0; i < hostile.Length; i++)
            {
                producer.Produce(topic, new Message<string?, byte[]>
                {
                    Value = SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("hostile_" + i), fixture.EventSchemaId),
                    Timestamp = new Timestamp(now.AddSeconds(-1000)),
                    Headers = new Headers { { AcceptedAtHeader.Name, hostile[i] } },
                });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var total = 20 + hostile.Length;
        await using var sink = await fixture.StartSinkAsync(Path.Combine(_directory, "warehouse.duckdb"), topic,
            new Dictionary<string, string?> { ["Sink:ConnectorDirectory"] = Path.Combine(_directory, "connect") });
        await SinkFixture.WaitForCountAsync(sink, "SELECT count(*) FROM events", total);
        using var http = SinkFixture.Client(sink, authenticated: false);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string metrics;
        do
        {
            metrics = await http.GetStringAsync("/metrics");
        }
        while (Sample(metrics, "eventplatform_end_to_end_latency_seconds_count") < total && DateTime.UtcNow < deadline && await Delay());

        Assert.Equal(total, Sample(metrics, "eventplatform_end_to_end_latency_seconds_count"));
        // Accepted now: well under a minute. The hostile ones: 1,000 s old by their record timestamp.
        Assert.Equal(20, Sample(metrics, "eventplatform_end_to_end_latency_seconds_bucket{le=\"60\"}"));
        Assert.Equal(hostile.Length, Sample(metrics, "eventplatform_end_to_end_latency_seconds_bucket{le=\"+Inf\"}") - Sample(metrics, "eventplatform_end_to_end_latency_seconds_bucket{le=\"120\"}"));
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }

    private static double Sample(string metrics, string series) =>
        metrics.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal)).Select(l => double.Parse(l[(series.Length + 1)..].Split(' ')[0], CultureInfo.InvariantCulture)).SingleOrDefault(-1);
}
