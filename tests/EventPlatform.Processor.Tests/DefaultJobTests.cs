using System.Globalization;
using System.Text.Json;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Core.Events;
using EventPlatform.Processor.Enrichment;
using EventPlatform.Processor.Input;
using EventPlatform.Processor.Job;
using EventPlatform.Processor.Output;
using EventPlatform.Schemas.Client;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Time;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Processor.Tests;

/// <summary>The default job run over lists of records (no broker): results against a plain reference, the DLQ, retries.</summary>
public class DefaultJobTests
{
    private const int OutputSchemaId = 99;
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Results_per_type_and_minute_match_a_reference_and_invalid_records_go_to_the_dlq()
    {
        var input = new List<SourceRecord>();
        var valid = new List<(string Type, long Time, double? Value, string? User)>();
        var random = new Random(5);
        for (var i = 0; i < 600; i++)
        {
            var time = Start.AddSeconds(i);
            var (topic, type) = (i % 3) switch
            {
                0 => ("events.iot.sensors", EventTypes.IotSensor),
                1 => ("events.transactions", EventTypes.Transaction),
                _ => ("events.clickstream", EventTypes.Clickstream),
            };
            var value = Math.Round(random.NextDouble() * 100, 2);
            var user = $"user-{random.Next(7)}";
            input.Add(Record(topic, i % 2, input.Count, EventJson(i, time, type, user, value), time));
            valid.Add((type, time.ToUnixTimeMilliseconds(), type == EventTypes.Clickstream ? null : value, type == EventTypes.IotSensor ? null : user));
            if (i % 97 == 0)
            {
                input.Add(new SourceRecord(topic, 1, input.Count, null, "not wire format"u8.ToArray(), time.ToUnixTimeMilliseconds()));
            }
        }

        var output = LocalJobRunner.Run(Job(new ProcessorOptions(), TestRecords.Lookup), input);

        var minutes = await DecodeAsync(output.Where(r => r.Topic == AggregatedEventSchema.Topic));
        var tumbling = minutes.Where(r => (string)r["window_kind"] == "tumbling" && (long)r["window_size_ms"] == 60_000).ToList();
        var reference = valid.GroupBy(e => (e.Type, Minute: e.Time / 60_000 * 60_000)).ToList();
        Assert.Equal(reference.Count, tumbling.Count);
        foreach (var window in reference)
        {
            var result = Assert.Single(tumbling, r => (string)r["event_type"] == window.Key.Type && ToMs(r["window_start"]) == window.Key.Minute);
            var values = window.Where(e => e.Value is not null).Select(e => e.Value!.Value).ToList();
            Assert.Equal(window.LongCount(), (long)result["count"]);
            Assert.Equal(window.Where(e => e.User is not null).Select(e => e.User).Distinct().LongCount(), (long)result["distinct_users"]);
            if (values.Count == 0)
            {
                Assert.Null(result["sum_value"]);
                Assert.Null(result["max_value"]);
            }
            else
            {
                Assert.Equal(values.Sum(), (double)result["sum_value"], 9);
                Assert.Equal(values.Average(), (double)result["avg_value"], 9);
                Assert.Equal(values.Min(), (double)result["min_value"]);
                Assert.Equal(values.Max(), (double)result["max_value"]);
            }
        }

        // Every definition of the seed's set produced results; per-user sessions name their user.
        Assert.Contains(minutes, r => (string)r["window_kind"] == "sliding");
        Assert.Contains(minutes, r => (long)r["window_size_ms"] == 900_000);
        Assert.All(minutes.Where(r => (string)r["window_kind"] == "session"), r => Assert.NotNull(r["window_key"]));

        var dead = output.Where(r => r.Topic == "events.dlq").Select(Dlq).ToList();
        var invalid = input.Where(r => r.Key is null).ToList();
        Assert.Equal(invalid.Count, dead.Count);
        Assert.All(dead, d => Assert.Equal(RejectionErrorTypes.NotWireFormat, d.ErrorType));
        Assert.Equal(invalid.Select(r => (r.Topic, r.Partition, r.Offset)), dead.Select(d => (d.SourceTopic, d.SourcePartition, d.SourceOffset)));
    }

    [Fact]
    public async Task A_record_whose_processing_keeps_throwing_goes_to_the_dlq_after_the_retries_and_its_partition_goes_on()
    {
        var poisonId = 13;
        var lookup = new FailingLookup(id => id == poisonId ? new InvalidOperationException("the business rule failed") : null);
        var options = new ProcessorOptions { MaxRetries = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(2), RetryMaxDelay = TimeSpan.FromMilliseconds(20) };
        var input = new List<SourceRecord>
        {
            Record("events.iot.sensors", 0, 0, EventJson(0, Start, EventTypes.IotSensor, null, 1), Start),
            new("events.iot.sensors", 0, 1, "k"u8.ToArray(), TestRecords.Encode(EventJson(1, Start.AddSeconds(1), EventTypes.IotSensor, null, 2), poisonId), Start.AddSeconds(1).ToUnixTimeMilliseconds()),
            Record("events.iot.sensors", 0, 2, EventJson(2, Start.AddSeconds(2), EventTypes.IotSensor, null, 4), Start.AddSeconds(2)),
        };

        var output = LocalJobRunner.Run(Job(options, lookup), input);

        var dead = Assert.Single(output.Where(r => r.Topic == "events.dlq").Select(Dlq));
        Assert.Equal(RecordProcessing.ProcessingFailed, dead.ErrorType);
        Assert.Equal(3, dead.RetryCount);
        Assert.Equal(4, lookup.Calls(poisonId));
        Assert.True(dead.LastAttemptTime >= dead.FirstAttemptTime + TimeSpan.FromMilliseconds(2 + 4 + 8), $"{dead.FirstAttemptTime:O} .. {dead.LastAttemptTime:O}");
        Assert.Equal(("events.iot.sensors", 0, 1L), (dead.SourceTopic, dead.SourcePartition, dead.SourceOffset));
        Assert.Contains("the business rule failed", dead.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(input[1].Value, dead.OriginalMessage);
        // The records around it were aggregated: the one-minute window counts two events with values 1 and 4.
        var minute = Assert.Single(await DecodeAsync(output.Where(r => r.Topic == AggregatedEventSchema.Topic)),
            r => (string)r["window_kind"] == "tumbling" && (long)r["window_size_ms"] == 60_000);
        Assert.Equal(2L, (long)minute["count"]);
        Assert.Equal(5.0, (double)minute["sum_value"]);
    }

    [Fact]
    public void A_registry_outage_is_waited_out_and_never_sends_the_record_to_the_dlq()
    {
        var failuresLeft = 3;
        var lookup = new FailingLookup(_ => Interlocked.Decrement(ref failuresLeft) >= 0 ? new SchemaUnavailableException("registry down", null) : null);
        var options = new ProcessorOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5) };
        var processing = Processing(options, lookup);

        var result = processing.Process(Record("events.iot.sensors", 0, 0, EventJson(0, Start, EventTypes.IotSensor, null, 1), Start));

        Assert.Null(result.DeadLetter);
        Assert.Equal(1.0, result.Event!.Value);
    }

    [Fact]
    public void A_registry_outage_longer_than_the_patience_stops_the_job_instead_of_dead_lettering()
    {
        var lookup = new FailingLookup(_ => new SchemaUnavailableException("registry down", null));
        var options = new ProcessorOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5), RegistryOutagePatience = TimeSpan.FromMilliseconds(50) };
        var processing = Processing(options, lookup);

        Assert.Throws<SchemaUnavailableException>(() => processing.Process(Record("events.iot.sensors", 0, 0, EventJson(0, Start, EventTypes.IotSensor, null, 1), Start)));
        Assert.True(lookup.Calls(TestRecords.EventSchemaId) > 1);
    }

    [Fact]
    public void Hostile_records_go_to_the_dlq_and_move_no_watermark()
    {
        var output = new ListOutput();
        var instance = new JobInstance(Job(new ProcessorOptions(), TestRecords.Lookup), output, new WatermarkOptions(), TimeProvider.System);
        var partition = new SourcePartition("events.iot.sensors", 0);
        instance.AddPartition(partition);
        instance.Process(Record(partition.Topic, 0, 0, EventJson(0, Start, EventTypes.IotSensor, null, 1), Start));
        var before = instance.AdvanceWatermark();
        var far = new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var hostile = new[]
        {
            new SourceRecord(partition.Topic, 0, 1, null, "{\"not\":\"wire\"}"u8.ToArray(), far),
            new SourceRecord(partition.Topic, 0, 2, null, TestRecords.Encode(EventJson(2, Start, EventTypes.IotSensor, null, 1), schemaId: 424242), far),
            new SourceRecord(partition.Topic, 0, 3, null, TestRecords.Encode(EventJson(3, new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero), EventTypes.IotSensor, null, 1)), far),
        };
        foreach (var record in hostile)
        {
            instance.Process(record);
        }

        Assert.Equal(before, instance.AdvanceWatermark());
        Assert.Equal(Start.ToUnixTimeMilliseconds() - 10_001, before);
        var dead = output.Records.Where(r => r.Topic == "events.dlq").Select(Dlq).ToList();
        Assert.Equal([RejectionErrorTypes.NotWireFormat, RejectionErrorTypes.UnknownSchema, RejectionErrorTypes.TimestampOutOfBounds], dead.Select(d => d.ErrorType));
        Assert.Equal([1L, 2L, 3L], dead.Select(d => d.SourceOffset));
    }

    [Fact]
    public void A_record_too_late_for_its_window_goes_to_the_dlq_as_a_late_event_under_the_side_output_policy()
    {
        var options = new ProcessorOptions
        {
            LatePolicy = Streaming.Operators.LateDataKind.SideOutput,
            Windows = [new WindowSettings { Kind = Streaming.Windows.WindowKind.Tumbling, Size = TimeSpan.FromMinutes(1) }],
        };
        var input = new List<SourceRecord>
        {
            Record("events.iot.sensors", 0, 0, EventJson(0, Start, EventTypes.IotSensor, null, 1), Start),
            Record("events.iot.sensors", 0, 1, EventJson(1, Start.AddMinutes(2), EventTypes.IotSensor, null, 2), Start.AddMinutes(2)),
            Record("events.iot.sensors", 0, 2, EventJson(2, Start.AddSeconds(30), EventTypes.IotSensor, null, 3), Start.AddSeconds(30)),
        };

        var output = LocalJobRunner.Run(Job(options, TestRecords.Lookup), input, endOfInput: false);

        var late = Assert.Single(output.Where(r => r.Topic == "events.dlq").Select(Dlq));
        Assert.Equal(DefaultJob.LateEvent, late.ErrorType);
        Assert.Equal(("events.iot.sensors", 0, 2L), (late.SourceTopic, late.SourcePartition, late.SourceOffset));
        Assert.Equal(input[2].Value, late.OriginalMessage);
    }

    [Fact]
    public void Options_refuse_a_sliding_window_without_a_slide()
    {
        var options = new ProcessorOptions { Windows = [new WindowSettings { Kind = Streaming.Windows.WindowKind.Sliding, Size = TimeSpan.FromMinutes(5) }] };
        var problems = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();
        Assert.Contains(problems, p => p.ErrorMessage!.Contains("Processor:Windows:0", StringComparison.Ordinal));
        Assert.Empty(new ProcessorOptions().Validate(new System.ComponentModel.DataAnnotations.ValidationContext(new ProcessorOptions())));
    }

    internal static StreamJob Job(ProcessorOptions options, IWriterSchemaLookup lookup) =>
        DefaultJob.Create(options, Processing(options, lookup), new AggregatedEventEncoder(OutputSchemaId), TimeProvider.System);

    private static RecordProcessing Processing(ProcessorOptions options, IWriterSchemaLookup lookup)
    {
        var classifier = new EventClassifier(lookup, new EventTimeBounds(new FakeTimeProvider(TestRecords.Now), EventTimeBounds.DefaultMaxAhead));
        return new RecordProcessing(classifier, new EventEnricher(new ReadingExtractor(new ReadingOptions()), TimeProvider.System), options, TimeProvider.System);
    }

    private static SourceRecord Record(string topic, int partition, long offset, string eventJson, DateTimeOffset time) =>
        new(topic, partition, offset, "k"u8.ToArray(), TestRecords.Encode(eventJson), time.ToUnixTimeMilliseconds());

    internal static string EventJson(int i, DateTimeOffset time, string type, string? user, double value)
    {
        var who = type == EventTypes.IotSensor ? "\"device_id\":\"device-1\"" : $"\"user_id\":\"{user}\"";
        var reading = type switch
        {
            EventTypes.IotSensor => $"\"temperature\":{value.ToString(CultureInfo.InvariantCulture)}",
            EventTypes.Transaction => $"\"amount\":{value.ToString(CultureInfo.InvariantCulture)},\"currency\":\"EUR\"",
            _ => "\"page\":\"/home\"",
        };
        return $"{{\"event_id\":\"evt-{i}\",\"timestamp\":\"{time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"event_type\":\"{type}\",{who},\"payload\":{{{reading}}}}}";
    }

    private static DlqMessage Dlq(OutputRecord record) => JsonSerializer.Deserialize(record.Value, CoreJsonContext.Api.DlqMessage)!;

    private static long ToMs(object value) => value is DateTime d ? new DateTimeOffset(d).ToUnixTimeMilliseconds() : (long)value;

    private static async Task<List<GenericRecord>> DecodeAsync(IEnumerable<OutputRecord> records)
    {
        var deserializer = new AvroDeserializer<GenericRecord>(OutputRecordTests.FakeRegistry.With(OutputSchemaId, AggregatedEventSchema.Avro));
        var decoded = new List<GenericRecord>();
        foreach (var record in records)
        {
            decoded.Add(await deserializer.DeserializeAsync(record.Value, isNull: false, new SerializationContext(MessageComponentType.Value, AggregatedEventSchema.Topic)));
        }

        return decoded;
    }

    /// <summary>The seed's event schema, with a failure injected per schema id (a registry that errs, a rule that throws).</summary>
    private sealed class FailingLookup(Func<int, Exception?> failure) : IWriterSchemaLookup
    {
        private readonly Dictionary<int, int> _calls = [];

        public int Calls(int id)
        {
            lock (_calls)
            {
                return _calls.GetValueOrDefault(id);
            }
        }

        public ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken)
        {
            lock (_calls)
            {
                _calls[id] = _calls.GetValueOrDefault(id) + 1;
            }

            if (failure(id) is { } e)
            {
                throw e;
            }

            return new(TestRecords.EventSchema);
        }
    }
}
