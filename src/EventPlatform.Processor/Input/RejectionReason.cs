namespace EventPlatform.Processor.Input;

/// <summary>Why a consumed record is not a valid event (Property 7). Each maps to a DLQ <c>error_type</c>.</summary>
public enum RejectionReason
{
    /// <summary>The value is missing, shorter than the header, or does not start with the magic byte 0.</summary>
    NotWireFormat = 1,

    /// <summary>The registry has no schema with the id in the header.</summary>
    UnknownSchema = 2,

    /// <summary>The body does not decode with the writer's schema (or the schema is of a type the processor does not read).</summary>
    Undecodable = 3,

    /// <summary>The body decodes but the event breaks the rules the gateway applies (missing or wrong fields).</summary>
    InvalidEvent = 4,

    /// <summary>The event's timestamp is outside the accepted bounds (before 1970, or too far ahead of the processor's clock).</summary>
    TimestampOutOfBounds = 5,
}

/// <summary>The DLQ <c>error_type</c> of each <see cref="RejectionReason"/>: stable strings that DLQ reports group by.</summary>
public static class RejectionErrorTypes
{
    /// <summary>For <see cref="RejectionReason.NotWireFormat"/>.</summary>
    public const string NotWireFormat = "NOT_WIRE_FORMAT";
    /// <summary>For <see cref="RejectionReason.UnknownSchema"/>.</summary>
    public const string UnknownSchema = "UNKNOWN_SCHEMA";
    /// <summary>For <see cref="RejectionReason.Undecodable"/>.</summary>
    public const string Undecodable = "UNDECODABLE";
    /// <summary>For <see cref="RejectionReason.InvalidEvent"/>.</summary>
    public const string InvalidEvent = "INVALID_EVENT";
    /// <summary>For <see cref="RejectionReason.TimestampOutOfBounds"/>.</summary>
    public const string TimestampOutOfBounds = "TIMESTAMP_OUT_OF_BOUNDS";

    /// <summary>The <c>error_type</c> for <paramref name="reason"/>.</summary>
    public static string Of(RejectionReason reason) => reason switch
    {
        RejectionReason.NotWireFormat => NotWireFormat,
        RejectionReason.UnknownSchema => UnknownSchema,
        RejectionReason.Undecodable => Undecodable,
        RejectionReason.InvalidEvent => InvalidEvent,
        RejectionReason.TimestampOutOfBounds => TimestampOutOfBounds,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
