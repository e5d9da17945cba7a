using System.Buffers;
using System.Text.Json;

namespace EventPlatform.Schemas.Avro;

/// <summary>The unit of a long holding a timestamp; <see cref="None"/> for a plain long.</summary>
internal enum TimestampUnit
{
    None,
    Millis,
    Micros,
    Nanos,
}

/// <summary>A long; with a timestamp logical type (or the gateway's option) it also takes an RFC 3339 string.</summary>
internal sealed class LongNode(TimestampUnit unit) : EncodeNode
{
    public override string Describe => unit == TimestampUnit.None ? "a long (64-bit integer)" : $"a long (timestamp in {unit})";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind switch
    {
        JsonValueKind.Number => 1,
        JsonValueKind.String when unit != TimestampUnit.None || options.AcceptTimestampStrings => 2,
        _ => -1,
    };

    public override bool Accepts(JsonElement value, EncodeContext context) => TryGet(value, context, out _);

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (TryGet(value, context, out var number))
        {
            AvroBinaryWriter.WriteLong(output, number);
        }
        else
        {
            Expected(context, value, value.ValueKind == JsonValueKind.String && TakesStrings(context)
                ? Describe + " or an RFC 3339 timestamp in range"
                : Describe);
        }
    }

    private bool TakesStrings(EncodeContext context) =>
        !context.DefaultMode && (unit != TimestampUnit.None || context.Options.AcceptTimestampStrings);

    private bool TryGet(JsonElement value, EncodeContext context, out long number)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.TryGetInt64(out number);
        }

        number = 0;
        return value.ValueKind == JsonValueKind.String && TakesStrings(context)
            && TryTimestamp(value, out var timestamp)
            && TryEpoch(timestamp, unit == TimestampUnit.None ? TimestampUnit.Millis : unit, out number);
    }

    // RFC 3339 wants an offset; a timestamp without one is taken as UTC rather than the machine's zone.
    private static bool TryTimestamp(JsonElement value, out DateTimeOffset timestamp)
    {
        var raw = RawString(value);
        var hasOffset = raw.Length > 10 && (raw[^1] is (byte)'Z' or (byte)'z' || (raw.Length > 16 && raw[^6] is (byte)'+' or (byte)'-' && raw[^3] == (byte)':'));
        if (hasOffset)
        {
            return value.TryGetDateTimeOffset(out timestamp);
        }

        var ok = value.TryGetDateTime(out var local);
        timestamp = ok ? new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Utc)) : default;
        return ok;
    }

    private static bool TryEpoch(DateTimeOffset timestamp, TimestampUnit unit, out long number)
    {
        var ticks = timestamp.UtcTicks - DateTime.UnixEpoch.Ticks;
        switch (unit)
        {
            case TimestampUnit.Millis:
                number = Math.DivRem(ticks, TimeSpan.TicksPerMillisecond, out var r1) - (r1 < 0 ? 1 : 0);
                return true;
            case TimestampUnit.Micros:
                number = Math.DivRem(ticks, TimeSpan.TicksPerMicrosecond, out var r2) - (r2 < 0 ? 1 : 0);
                return true;
            default:
                // Nanoseconds since 1970 overflow a long outside about 1677-2262.
                number = ticks * TimeSpan.NanosecondsPerTick;
                return Math.Abs(ticks) <= long.MaxValue / TimeSpan.NanosecondsPerTick;
        }
    }
}
