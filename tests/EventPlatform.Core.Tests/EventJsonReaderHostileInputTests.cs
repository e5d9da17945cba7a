using System.Text;
using EventPlatform.Core.Events;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Core.Tests;

/// <summary>
/// What a hostile or careless client can put in an event: text that is not Unicode, numbers no
/// double holds, timestamps Kafka cannot store. Each is refused as an invalid field, never thrown.
/// </summary>
public class EventJsonReaderHostileInputTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private const string Valid = """{"event_id":"evt_1","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","user_id":"u","device_id":"d","payload":{"t":1},"metadata":{"m":"x"}}""";

    // Invalid UTF-8: a lead byte without its continuation, a stray continuation, an overlong '/',
    // an encoded surrogate (U+D800), a code point past U+10FFFF, a truncated 3-byte sequence, 0xFF.
    public static TheoryData<byte[]> BadUtf8 => new()
    {
        new byte[] { 0xC3, 0x28 },
        new byte[] { 0x80 },
        new byte[] { 0xC0, 0xAF },
        new byte[] { 0xED, 0xA0, 0x80 },
        new byte[] { 0xF4, 0x90, 0x80, 0x80 },
        new byte[] { 0xE2, 0x82 },
        new byte[] { 0xFF },
    };

    // Where a string can be, and the field the refusal must name.
    public static TheoryData<string, string> StringPlaces => new()
    {
        { """{"event_id":"#","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{}}""", "event_id" },
        { """{"event_id":"e","timestamp":"#","event_type":"iot.sensor","payload":{}}""", "timestamp" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"#","payload":{}}""", "event_type" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","user_id":"#","payload":{}}""", "user_id" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","device_id":"#","payload":{}}""", "device_id" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{"a":"#"}}""", "payload" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{"#":1}}""", "payload" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{"a":[{"b":["#"]}]}}""", "payload" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{},"metadata":{"m":"#"}}""", "metadata" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{},"metadata":{"#":"m"}}""", "metadata" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{},"extra":{"x":"#"}}""", "extra" },
        { """{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{},"#":1}""", EventJsonReader.UnreadableName },
    };

    private static byte[] Place(string template, ReadOnlySpan<byte> text)
    {
        var at = template.IndexOf('#', StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(template[..at]), .. text, .. Encoding.UTF8.GetBytes(template[(at + 1)..])];
    }

    private static EventValidationError Refused(byte[] json, EventTimeBounds? bounds = null)
    {
        var body = EventJsonReader.ReadSingle(json, bounds);
        Assert.Null(body.SyntaxError);
        Assert.Null(body.Result.Event);
        return Assert.IsType<EventValidationError>(body.Result.Error);
    }

    private static IngestEvent Accepted(byte[] json, EventTimeBounds? bounds = null)
    {
        var body = EventJsonReader.ReadSingle(json, bounds);
        Assert.Null(body.SyntaxError);
        Assert.Null(body.Result.Error);
        return body.Result.Event!;
    }

    private static EventTimeBounds Bounds(TimeSpan? maxAhead = null, TimeSpan? maxAge = null) =>
        new(new FakeTimeProvider(Now), maxAhead ?? EventTimeBounds.DefaultMaxAhead, maxAge);

    private static byte[] WithTimestamp(string timestamp) =>
        Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":" + timestamp + ",\"event_type\":\"iot.sensor\",\"payload\":{}}");

    public static TheoryData<string, string> LoneSurrogatePlaces()
    {
        var data = new TheoryData<string, string>();
        foreach (var escape in new[] { "\\ud800", "\\uDBFF", "\\udc00", "a\\ud800b", "\\ud800\\ud800", "\\udc00\\ud800", "\\ud800\\n" })
        {
            foreach (var place in StringPlaces)
            {
                data.Add(((string)place[0]).Replace("#", escape, StringComparison.Ordinal), (string)place[1]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LoneSurrogatePlaces))]
    public void A_lone_surrogate_escape_in_any_string_is_refused_naming_its_field(string json, string field)
    {
        var error = Refused(Encoding.UTF8.GetBytes(json));
        Assert.StartsWith(EventJsonReader.NotUnicodeReason, error.InvalidFields[field], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadUtf8))]
    public void Invalid_utf8_in_any_string_is_refused_naming_its_field(byte[] bad)
    {
        foreach (var place in StringPlaces)
        {
            var error = Refused(Place((string)place[0], bad));
            Assert.StartsWith(EventJsonReader.NotUnicodeReason, error.InvalidFields[(string)place[1]], StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\\ud83d\\ude00")]
    [InlineData("\\uD83D\\uDE00 and \\u00e9")]
    [InlineData("\\\\ud800")]
    [InlineData("\\\\\\ud83d\\ude00\\\\")]
    [InlineData("😀 é 中")]
    [InlineData("\\u0000")]
    public void Paired_surrogates_and_escaped_backslashes_are_text(string text)
    {
        foreach (var place in StringPlaces)
        {
            var json = ((string)place[0]).Replace("#", text, StringComparison.Ordinal);
            if ((string)place[1] is "event_type" or "timestamp")
            {
                continue;
            }

            Accepted(Encoding.UTF8.GetBytes(json));
        }
    }

    [Theory]
    [InlineData("""{"t":1e999}""", "payload")]
    [InlineData("""{"t":-1e999}""", "payload")]
    [InlineData("""{"a":[1,2,{"b":[1E400]}]}""", "payload")]
    [InlineData("""{"t":1e+309}""", "payload")]
    public void Non_finite_numbers_in_the_payload_are_refused(string payload, string field)
    {
        var error = Refused(Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":1705314600,\"event_type\":\"iot.sensor\",\"payload\":" + payload + "}"));
        Assert.StartsWith(EventJsonReader.NotFiniteReason, error.InvalidFields[field], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"m":1e999}""")]
    [InlineData("""{"m":{"n":[-1e999]}}""")]
    [InlineData("""{"m":1""" + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "0000000000}")]
    public void Non_finite_numbers_in_metadata_are_refused(string metadata)
    {
        var error = Refused(Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":1705314600,\"event_type\":\"iot.sensor\",\"payload\":{},\"metadata\":" + metadata + "}"));
        Assert.StartsWith(EventJsonReader.NotFiniteReason, error.InvalidFields["metadata"], StringComparison.Ordinal);
    }

    [Fact]
    public void Non_finite_numbers_are_refused_in_ignored_fields_and_the_timestamp_too()
    {
        Assert.StartsWith(EventJsonReader.NotFiniteReason, Refused(Encoding.UTF8.GetBytes("""{"event_id":"e","timestamp":1705314600,"event_type":"t","payload":{},"x":[1e999]}""")).InvalidFields["x"], StringComparison.Ordinal);
        Assert.Contains("timestamp", Refused(WithTimestamp("1e999")).InvalidFields.Keys);
        Assert.Contains("timestamp", Refused(WithTimestamp("-1e999")).InvalidFields.Keys);
    }

    [Theory]
    [InlineData("1.7976931348623157e308")]
    [InlineData("-1e308")]
    [InlineData("1e-999")]
    [InlineData("0.000000000000000000000000000000000000000001")]
    [InlineData("123456789012345678901234567890")]
    public void Large_but_finite_numbers_and_underflow_are_kept_as_written(string number)
    {
        var e = Accepted(Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":1705314600,\"event_type\":\"t\",\"payload\":{\"n\":" + number + "},\"metadata\":{\"n\":" + number + "}}"));
        Assert.Equal("{\"n\":" + number + "}", Encoding.UTF8.GetString(e.Payload.Span));
    }

    [Theory]
    [InlineData("-62135596801")]
    [InlineData("-1")]
    [InlineData("-0.001")]
    [InlineData("\"1969-12-31T23:59:59Z\"")]
    [InlineData("\"0001-01-01T00:00:00Z\"")]
    [InlineData("\"1970-01-01T00:30:00+01:00\"")]
    public void Timestamps_before_the_unix_epoch_are_refused_even_without_bounds(string timestamp)
    {
        Assert.Contains("1970", Refused(WithTimestamp(timestamp)).InvalidFields["timestamp"], StringComparison.Ordinal);
        Assert.Contains("1970", Refused(WithTimestamp(timestamp), Bounds()).InvalidFields["timestamp"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_unix_epoch_itself_is_a_timestamp() =>
        Assert.Equal(DateTimeOffset.UnixEpoch, Accepted(WithTimestamp("0"), Bounds()).Timestamp);

    [Theory]
    [InlineData("\"9999-12-31T23:59:59Z\"")]
    [InlineData("253402300799000")]
    [InlineData("\"2026-06-01T13:00:00.001Z\"")]
    [InlineData("\"2026-06-01T15:01:00+02:00\"")]
    public void Timestamps_more_than_an_hour_ahead_are_refused_by_default(string timestamp)
    {
        var reason = Refused(WithTimestamp(timestamp), Bounds()).InvalidFields["timestamp"];
        Assert.Contains("ahead of the gateway's clock (2026-06-01T12:00:00Z)", reason, StringComparison.Ordinal);

        // Read back from storage (no bounds), the same event is kept as it is.
        Accepted(WithTimestamp(timestamp));
    }

    [Theory]
    [InlineData("\"2026-06-01T13:00:00Z\"")]
    [InlineData("\"2026-06-01T12:00:00Z\"")]
    [InlineData("\"2000-01-01T00:00:00Z\"")]
    [InlineData("1")]
    public void Timestamps_up_to_an_hour_ahead_and_any_age_are_accepted_by_default(string timestamp) =>
        Accepted(WithTimestamp(timestamp), Bounds());

    [Fact]
    public void Both_bounds_are_configurable_and_follow_the_clock()
    {
        var clock = new FakeTimeProvider(Now);
        var bounds = new EventTimeBounds(clock, TimeSpan.FromMinutes(5), TimeSpan.FromDays(7));

        Accepted(WithTimestamp("\"2026-06-01T12:05:00Z\""), bounds);
        Assert.Contains("5 min ahead", Refused(WithTimestamp("\"2026-06-01T12:05:01Z\""), bounds).InvalidFields["timestamp"], StringComparison.Ordinal);
        Accepted(WithTimestamp("\"2026-05-25T12:00:00Z\""), bounds);
        Assert.Contains("168 h behind", Refused(WithTimestamp("\"2026-05-25T11:59:59Z\""), bounds).InvalidFields["timestamp"], StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromMinutes(1));
        Accepted(WithTimestamp("\"2026-06-01T12:05:01Z\""), bounds);
        Refused(WithTimestamp("\"2026-05-25T12:00:00Z\""), bounds);
    }

    [Fact]
    public void A_batch_judges_every_event_against_the_same_bounds()
    {
        var json = "[" + string.Join(",",
            """{"event_id":"a","timestamp":"2026-06-01T12:30:00Z","event_type":"t","payload":{}}""",
            """{"event_id":"b","timestamp":"9999-01-01T00:00:00Z","event_type":"t","payload":{}}""",
            """{"event_id":"c","timestamp":-5,"event_type":"t","payload":{"x":1e999}}""") + "]";
        var batch = EventJsonReader.ReadBatch(Encoding.UTF8.GetBytes(json), 10, Bounds());

        Assert.True(batch.Results[0].IsValid);
        Assert.Contains("ahead", batch.Results[1].Error!.InvalidFields["timestamp"], StringComparison.Ordinal);
        Assert.Equal(["payload", "timestamp"], batch.Results[2].Error!.InvalidFields.Keys);
    }

    [Fact]
    public void Bounds_refuse_settings_that_make_no_sense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventTimeBounds(TimeProvider.System, TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventTimeBounds(TimeProvider.System, TimeSpan.Zero, TimeSpan.Zero));
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""", "payload")]
    [InlineData("""{"a":1,"b":{"c":1,"c":2}}""", "payload")]
    [InlineData("""{"a":[{"x":1},{"y":1,"y":null}]}""", "payload")]
    [InlineData("""{"abc":1,"\u0061bc":2}""", "payload")]
    [InlineData("""{"\u00e9":1,"é":2}""", "payload")]
    [InlineData("""{"\ud83d\ude00":1,"😀":2}""", "payload")]
    public void A_property_given_twice_in_any_object_of_the_payload_is_refused(string payload, string field)
    {
        var error = Refused(Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":1705314600,\"event_type\":\"t\",\"payload\":" + payload + "}"));
        Assert.StartsWith(EventJsonReader.DuplicateNameReason, error.InvalidFields[field], StringComparison.Ordinal);
    }

    [Fact]
    public void A_property_given_twice_in_metadata_or_an_ignored_field_is_refused()
    {
        Assert.StartsWith(EventJsonReader.DuplicateNameReason,
            Refused(Encoding.UTF8.GetBytes("""{"event_id":"e","timestamp":1,"event_type":"t","payload":{},"metadata":{"m":"1","m":"2"}}""")).InvalidFields["metadata"], StringComparison.Ordinal);
        Assert.StartsWith(EventJsonReader.DuplicateNameReason,
            Refused(Encoding.UTF8.GetBytes("""{"event_id":"e","timestamp":1,"event_type":"t","payload":{},"x":{"k":1,"k":1}}""")).InvalidFields["x"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"a":{"a":{"a":1}},"b":{"a":2}}""")]
    [InlineData("""{"a":1,"A":2,"ab":3,"a b":4,"\u0062":5}""")]
    [InlineData("""{"x":[{"a":1},{"a":2}],"y":{"a":3}}""")]
    [InlineData("""{"\\u0061":1,"u0061":2,"\u005c":3}""")]
    public void The_same_name_in_different_objects_or_different_names_are_fine(string payload) =>
        Accepted(Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":1705314600,\"event_type\":\"t\",\"payload\":" + payload + "}"));

    [Theory]
    [InlineData(15, false)]
    [InlineData(16, false)]
    [InlineData(17, false)]
    [InlineData(50_000, false)]
    [InlineData(17, true)]
    [InlineData(50_000, true)]
    public void Wide_objects_are_checked_in_linear_time(int keys, bool repeatFirst)
    {
        var names = Enumerable.Range(0, keys).Select(k => $"\"key{k}\":{k}").ToList();
        if (repeatFirst)
        {
            names.Add("\"\\u006bey0\":0");
        }

        var json = Encoding.UTF8.GetBytes("{\"event_id\":\"e\",\"timestamp\":1705314600,\"event_type\":\"t\",\"payload\":{" + string.Join(",", names) + "}}");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (repeatFirst)
        {
            Assert.Contains("'key0'", Refused(json).InvalidFields["payload"], StringComparison.Ordinal);
        }
        else
        {
            Accepted(json);
        }

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(2));
    }

    // The reference for "is this text": .NET's own strict decoders, not the reader's checks.
    private static bool IsText(string s)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(s);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static bool IsText(byte[] utf8)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static string EscapeEveryChar(string s) => string.Concat(s.Select(c => $"\\u{(int)c:x4}"));

    // Strings of UTF-16 units, surrogates (paired or not) among them: each written as \uXXXX escapes.
    private static Gen<string> Utf16Gen() =>
        Gen.Frequency(
            (3, Gen.Choose(0, 0xFFFF).Select(i => (char)i)),
            (2, Gen.Choose(0xD800, 0xDFFF).Select(i => (char)i)),
            (2, Gen.Elements('a', 'é', '"', '\\')))
        .ListOf().Select(cs => new string([.. cs.Take(12)]));

    // Byte strings without '"' or '\\' (so the JSON string stays one token), often near valid UTF-8.
    private static Gen<byte[]> BytesGen() =>
        Gen.Frequency(
            (2, Gen.Choose(0x20, 0xFF).Select(i => (byte)i)),
            (2, Gen.Elements<byte>(0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xBF, 0x61)))
        .Where(b => b != '"' && b != '\\')
        .ListOf().Select(bs => bs.Take(16).ToArray());

    [Property(MaxTest = 300)]
    public Property Any_escaped_utf16_string_is_accepted_exactly_when_it_is_text() =>
        Prop.ForAll(Arb.From(Utf16Gen()), Arb.From(Gen.Elements(StringPlaces.Select(p => (string)p[0]).ToArray())), (text, template) =>
        {
            if (template.Contains("\"event_type\":\"#\"", StringComparison.Ordinal) || template.Contains("\"timestamp\":\"#\"", StringComparison.Ordinal))
            {
                return;
            }

            var json = Encoding.UTF8.GetBytes(template.Replace("#", EscapeEveryChar(text), StringComparison.Ordinal));
            var body = EventJsonReader.ReadSingle(json);
            Assert.Null(body.SyntaxError);
            var expected = IsText(text) && (text.Length > 0 || !template.Contains("\"event_id\":\"#\"", StringComparison.Ordinal));
            Assert.Equal(expected, body.Result.IsValid);
        });

    [Property(MaxTest = 300)]
    public Property Any_raw_byte_string_is_accepted_exactly_when_it_is_utf8() =>
        Prop.ForAll(Arb.From(BytesGen()), Arb.From(Gen.Elements(StringPlaces.Select(p => (string)p[0]).ToArray())), (bytes, template) =>
        {
            if (template.Contains("\"event_type\":\"#\"", StringComparison.Ordinal) || template.Contains("\"timestamp\":\"#\"", StringComparison.Ordinal))
            {
                return;
            }

            var body = EventJsonReader.ReadSingle(Place(template, bytes));
            Assert.Null(body.SyntaxError);
            var expected = IsText(bytes) && (bytes.Length > 0 || !template.Contains("\"event_id\":\"#\"", StringComparison.Ordinal));
            Assert.Equal(expected, body.Result.IsValid);
        });
}
