using System.Text;
using EventPlatform.Core.Events;
using EventPlatform.Processor.Enrichment;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Processor.Tests;

public class EnrichmentTests
{
    private static readonly DateTimeOffset At = new(2024, 1, 15, 10, 30, 0, TimeSpan.Zero);

    private static IngestEvent Event(string type, string payload, string? user = "u1") => new()
    {
        EventId = "e",
        Timestamp = At,
        EventType = type,
        UserId = user,
        Payload = Encoding.UTF8.GetBytes(payload),
    };

    private static double? ReadingOf(string type, string payload, ReadingOptions? options = null) =>
        new ReadingExtractor(options ?? new ReadingOptions()).ReadingOf(Event(type, payload));

    [Theory]
    [InlineData("iot.sensor", """{"temperature":21.5,"value":3}""", 21.5)]
    [InlineData("iot.sensor", """{"value":3}""", 3.0)]
    [InlineData("iot.sensor", """{"temperature":"hot","value":-4.25}""", -4.25)]
    [InlineData("transaction", """{"currency":"EUR","amount":99.99}""", 99.99)]
    [InlineData("transaction", """{"nested":{"amount":1},"amount":2}""", 2.0)]
    public void The_seeds_default_readings_are_found(string type, string payload, double expected) =>
        Assert.Equal(expected, ReadingOf(type, payload));

    [Theory]
    [InlineData("clickstream", """{"amount":1,"value":2,"temperature":3}""")]
    [InlineData("iot.sensor", """{"temperature":"21.5"}""")]
    [InlineData("iot.sensor", """{"temperature":null,"value":true}""")]
    [InlineData("iot.sensor", """{"temperature":{"value":1}}""")]
    [InlineData("iot.sensor", """{"temperature":1e400}""")]
    [InlineData("transaction", """{}""")]
    [InlineData("custom.type", """{"value":1}""")]
    public void Missing_non_numeric_and_non_finite_readings_are_no_value(string type, string payload) =>
        Assert.Null(ReadingOf(type, payload));

    [Fact]
    public void Readings_are_configured_per_event_type_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Processor:Readings:iot.sensor:0"] = "payload.reading.celsius",
            ["Processor:Readings:orders:0"] = "payload.total",
        }).Build();
        var options = new ReadingOptions();
        configuration.GetSection(ReadingOptions.SectionName).Bind(options);

        Assert.True(new ReadingOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(7.5, ReadingOf("iot.sensor", """{"temperature":1,"reading":{"celsius":7.5}}""", options));
        Assert.Null(ReadingOf("iot.sensor", """{"temperature":1}""", options));
        Assert.Equal(12.0, ReadingOf("orders", """{"total":12}""", options));
        Assert.Equal(5.0, ReadingOf("transaction", """{"amount":5}""", options));
    }

    [Theory]
    [InlineData("iot.sensor", "temperature")]
    [InlineData("iot.sensor", "payload")]
    [InlineData("iot.sensor", "payload..value")]
    [InlineData("iot.sensor", "payload.value.")]
    [InlineData("iot.sensor", "")]
    [InlineData("not a type", "payload.value")]
    public void Bad_reading_settings_fail_validation_naming_the_key(string type, string path)
    {
        var options = new ReadingOptions();
        options.Readings[type] = [path];

        var result = new ReadingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Processor:Readings:{type}", result.FailureMessage, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ReadingExtractor(options));
    }

    [Fact]
    public void Enrichment_adds_processing_time_delays_and_the_reading()
    {
        var clock = new FakeTimeProvider(At.AddSeconds(5));
        var enricher = new EventEnricher(new ReadingExtractor(new ReadingOptions()), clock);
        var e = Event("iot.sensor", """{"temperature":20}""");

        var enriched = enricher.Enrich(e, kafkaTimestamp: At.AddSeconds(1));

        Assert.Same(e, enriched.Event);
        Assert.Equal(At.AddSeconds(5), enriched.ProcessingTime);
        Assert.Equal(TimeSpan.FromSeconds(5), enriched.IngestionDelay);
        Assert.Equal(TimeSpan.FromSeconds(4), enriched.ConsumeDelay);
        Assert.Equal(20.0, enriched.Value);
        Assert.Equal(new EventPlatform.Streaming.Aggregation.Reading(20.0, "u1"), enriched.Reading);
    }
}
