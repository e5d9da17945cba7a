using System.Text;
using EventPlatform.Processor.Input;
using static EventPlatform.Processor.Tests.TestRecords;

namespace EventPlatform.Processor.Tests;

public class ClassifierTests
{
    private const string Valid = """{"event_id":"e1","timestamp":"2024-01-15T11:59:00Z","event_type":"iot.sensor","user_id":"u1","device_id":"d1","payload":{"temperature":21.5},"metadata":null}""";

    [Fact]
    public void A_valid_seed_event_is_accepted_with_its_fields()
    {
        var result = Classify(Encode(Valid));

        Assert.True(result.IsValid);
        Assert.Null(result.Rejection);
        var e = result.Event!;
        Assert.Equal("e1", e.EventId);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 11, 59, 0, TimeSpan.Zero), e.Timestamp);
        Assert.Equal("iot.sensor", e.EventType);
        Assert.Equal("u1", e.UserId);
        Assert.Equal("""{"temperature":21.5}""", Encoding.UTF8.GetString(e.Payload.Span));
    }

    [Fact]
    public void An_event_the_direct_reader_leaves_to_the_general_way_is_still_accepted()
    {
        // An exponent in the payload is not "plainly valid" for the direct reader; the event reader takes it.
        var result = Classify(Encode(Valid.Replace("21.5", "2.15e1", StringComparison.Ordinal)));

        Assert.True(result.IsValid);
        Assert.Equal("e1", result.Event!.EventId);
    }

    public static TheoryData<byte[]?, RejectionReason> Hostile => new()
    {
        { null, RejectionReason.NotWireFormat },
        { [], RejectionReason.NotWireFormat },
        { "{\"event_id\":\"e\"}"u8.ToArray(), RejectionReason.NotWireFormat },
        { [0, 0, 0], RejectionReason.NotWireFormat },
        { [0, 0, 0, 0, 99, 2, 65], RejectionReason.UnknownSchema },
        { [0, 0, 0, 0, EventSchemaId], RejectionReason.Undecodable },
        { [0, 0, 0, 0, EventSchemaId, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F], RejectionReason.Undecodable },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_records_are_rejected_with_their_reason(byte[]? value, RejectionReason reason)
    {
        var result = Classify(value);

        Assert.False(result.IsValid);
        Assert.Equal(reason, result.Rejection!.Reason);
        Assert.False(string.IsNullOrWhiteSpace(result.Rejection.Message));
    }

    [Fact]
    public void A_truncated_record_is_undecodable()
    {
        var whole = Encode(Valid);

        var result = Classify(whole[..^3]);

        Assert.Equal(RejectionReason.Undecodable, result.Rejection!.Reason);
    }

    [Fact]
    public void A_timestamp_in_year_9999_is_out_of_bounds()
    {
        var result = Classify(Encode(Valid.Replace("2024-01-15T11:59:00Z", "9999-12-31T23:59:59Z", StringComparison.Ordinal)));

        Assert.Equal(RejectionReason.TimestampOutOfBounds, result.Rejection!.Reason);
        Assert.Contains("timestamp", result.Rejection.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"event_id":"","timestamp":"2024-01-15T11:59:00Z","event_type":"iot.sensor","user_id":null,"device_id":null,"payload":{},"metadata":null}""")]
    [InlineData("""{"event_id":"e","timestamp":"2024-01-15T11:59:00Z","event_type":"not a topic","user_id":null,"device_id":null,"payload":{},"metadata":null}""")]
    [InlineData("""{"event_id":"e","timestamp":"2024-01-15T11:59:00Z","event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"not an object","metadata":null}""")]
    public void An_event_breaking_the_gateways_rules_is_invalid(string json)
    {
        var result = Classify(Encode(json));

        Assert.Equal(RejectionReason.InvalidEvent, result.Rejection!.Reason);
    }

    [Fact]
    public void A_rejection_becomes_the_seeds_dlq_message_with_where_the_record_came_from()
    {
        var value = new byte[] { 1, 2, 3 };
        var record = Record(value, offset: 1234);
        var rejection = Classify(value).Rejection!;
        var first = Now.AddSeconds(-3);

        var final = rejection.ToDlqMessage(record, Now);
        var retried = rejection.ToDlqMessage(record, 3, first, Now);

        Assert.Same(value, final.OriginalMessage);
        Assert.Equal(RejectionErrorTypes.NotWireFormat, final.ErrorType);
        Assert.Equal(rejection.Message, final.ErrorMessage);
        Assert.Equal((0, Now, Now), (final.RetryCount, final.FirstAttemptTime, final.LastAttemptTime));
        Assert.Equal((Topic, 3, 1234L), (final.SourceTopic, final.SourcePartition, final.SourceOffset));
        Assert.Equal((3, first, Now), (retried.RetryCount, retried.FirstAttemptTime, retried.LastAttemptTime));
    }
}
