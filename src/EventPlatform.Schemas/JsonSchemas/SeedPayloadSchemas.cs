namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// The payload schemas (draft-07) of the platform's seed event types, for registering at startup.
/// Subject names are the caller's choice.
/// </summary>
public static class SeedPayloadSchemas
{
    /// <summary>IoT sensor readings: numeric measurements, at least one of temperature or humidity, extra fields allowed.</summary>
    public const string IotSensor = """
        {"$schema": "http://json-schema.org/draft-07/schema#", "title": "iot.sensor", "type": "object",
         "properties": {"temperature": {"type": "number"}, "humidity": {"type": "number", "minimum": 0, "maximum": 100},
                        "pressure": {"type": "number"}, "battery": {"type": "number"}, "unit": {"type": "string"}},
         "anyOf": [{"required": ["temperature"]}, {"required": ["humidity"]}],
         "additionalProperties": true}
        """;

    /// <summary>Clickstream: page interactions, all fields optional, durations are non-negative integers.</summary>
    public const string Clickstream = """
        {"$schema": "http://json-schema.org/draft-07/schema#", "title": "clickstream", "type": "object",
         "properties": {"page": {"type": "string"}, "action": {"type": "string"}, "element": {"type": "string"},
                        "referrer": {"type": "string"}, "session_id": {"type": "string"},
                        "duration_ms": {"type": "integer", "minimum": 0}},
         "required": []}
        """;

    /// <summary>Transaction: an amount is required; currency is an ISO 4217 code.</summary>
    public const string Transaction = """
        {"$schema": "http://json-schema.org/draft-07/schema#", "title": "transaction", "type": "object",
         "properties": {"amount": {"type": "number"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "merchant": {"type": "string"}, "status": {"type": "string"}},
         "required": ["amount"]}
        """;

    /// <summary>Event type -> payload schema text.</summary>
    public static IReadOnlyDictionary<string, string> ByEventType { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["iot.sensor"] = IotSensor,
        ["clickstream"] = Clickstream,
        ["transaction"] = Transaction,
    };
}
