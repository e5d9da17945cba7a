namespace EventPlatform.Sink.Transformation;

/// <summary>Why a record could not become a row (the DLQ's <c>error_type</c>).</summary>
public static class TransformErrorTypes
{
    public const string NotWireFormat = "NOT_WIRE_FORMAT";
    public const string UnknownSchema = "UNKNOWN_SCHEMA";
    public const string Undecodable = "UNDECODABLE";
    public const string InvalidEvent = "INVALID_EVENT";
    public const string InvalidAggregate = "INVALID_AGGREGATE";
}

/// <summary>A row, or why the record cannot be one. Never both, never a half-filled row.</summary>
public readonly record struct TransformOutcome(WarehouseRow? Row, string? ErrorType, string? ErrorMessage)
{
    public bool IsRow => Row is not null;

    public static TransformOutcome Of(WarehouseRow row) => new(row, null, null);

    public static TransformOutcome Failed(string errorType, string message) => new(null, errorType, message);
}
