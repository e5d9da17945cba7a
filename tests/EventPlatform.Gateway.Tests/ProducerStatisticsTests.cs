using System.Diagnostics.Metrics;
using System.Text;
using EventPlatform.Hosting.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Gateway.Tests;

public sealed class ProducerStatisticsTests
{
    private static readonly string Sample = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "librdkafka-statistics.json"));

    [Fact]
    public void A_librdkafka_report_is_read_for_the_fields_the_metrics_need()
    {
        var report = LibrdkafkaStatistics.Parse(Encoding.UTF8.GetBytes(Sample));

        Assert.Equal("eventplatform-gateway", report.ClientId);
        Assert.Equal(603_983, report.AgeMicros);
        Assert.Equal(14_700, report.QueuedMessages);
        Assert.Equal(1_470_000, report.QueuedBytes);
        Assert.Equal(0, report.MessagesSent);
        Assert.Equal(155, report.BytesSent);
        Assert.Equal(3, report.Brokers);
        Assert.Equal(1, report.BrokersUp);
        Assert.Equal(3, report.RoundTrips);
        Assert.Equal(6, report.RoundTripAvgMicros);
        Assert.Equal(11, report.RoundTripMaxMicros);
    }

    [Fact]
    public void Bootstrap_entries_are_not_brokers_and_round_trips_are_weighted_by_count()
    {
        const string json = """
            {"client_id":"c","age":2000000,"txmsgs":10,"msg_cnt":0,"topics":{"t":{"partitions":{"0":{"txmsgs":10}}}},
             "brokers":{
               "127.0.0.1:9092/bootstrap":{"nodeid":-1,"state":"UP","rtt":{"avg":999999,"cnt":50,"max":999999}},
               "b1":{"nodeid":1,"state":"UP","rtt":{"avg":1000,"cnt":3,"max":4000}},
               "b2":{"nodeid":2,"state":"DOWN","rtt":{"avg":3000,"cnt":1,"max":3000}},
               "b3":{"nodeid":3,"state":"UP","rtt":{"avg":0,"cnt":0,"max":0}}}}
            """;

        var report = LibrdkafkaStatistics.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(3, report.Brokers);
        Assert.Equal(2, report.BrokersUp);
        Assert.Equal(4, report.RoundTrips);
        Assert.Equal((1000 * 3 + 3000 * 1) / 4.0, report.RoundTripAvgMicros);
        Assert.Equal(4000, report.RoundTripMaxMicros);
        Assert.Equal(10, report.MessagesSent);
    }

    [Fact]
    public void Rates_are_the_growth_between_two_reports_and_the_first_counts_from_the_client_start()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var statistics = new KafkaProducerStatistics(services.GetRequiredService<IMeterFactory>(), new FakeTimeProvider(), NullLogger<KafkaProducerStatistics>.Instance);
        Assert.Null(statistics.Latest);

        statistics.OnStatistics(Report(ageSeconds: 2, sent: 1000, messageBytes: 100_000, queued: 7));
        var first = statistics.Latest!;
        Assert.Equal(500, first.RecordSendRate);
        Assert.Equal(50_000, first.ByteRate);
        Assert.Equal(7, first.QueueDepth);
        Assert.Equal(0, first.RecordErrorRate);

        statistics.RecordDeliveryFailure();
        statistics.RecordDeliveryFailure();
        statistics.OnStatistics(Report(ageSeconds: 6, sent: 9000, messageBytes: 500_000, queued: 0));
        var second = statistics.Latest!;
        Assert.Equal(2000, second.RecordSendRate);
        Assert.Equal(100_000, second.ByteRate);
        Assert.Equal(0.5, second.RecordErrorRate);
        Assert.Equal(9000, second.RecordSendTotal);
        Assert.Equal(2, second.RecordErrorTotal);
        Assert.Equal(TimeSpan.FromMilliseconds(2), second.RequestLatencyAvg);
    }

    [Fact]
    public void An_unreadable_report_is_skipped_and_the_last_good_one_stays()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var statistics = new KafkaProducerStatistics(services.GetRequiredService<IMeterFactory>(), TimeProvider.System, NullLogger<KafkaProducerStatistics>.Instance);
        statistics.OnStatistics(Sample);
        var good = statistics.Latest;

        statistics.OnStatistics("{\"client_id\": [not json");
        statistics.OnStatistics("[]");

        Assert.NotNull(good);
        Assert.Same(good, statistics.Latest);
    }

    private static LibrdkafkaStatistics Report(int ageSeconds, long sent, long messageBytes, long queued) =>
        new("c", ageSeconds * 1_000_000L, sent, messageBytes, messageBytes * 2, queued, queued * 100, 3, 3, 10, 2000, 5000);
}
