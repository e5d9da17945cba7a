using System.ComponentModel;
using System.Text.Json.Nodes;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>
/// The seed's <c>Event</c> model as the OpenAPI document shows it (schema <c>Event</c>). The
/// publish routes never bind it: they read the body with <c>EventJsonReader</c>, which is faster
/// and reports every bad field. This type exists so the document can describe that body.
/// </summary>
[Description("An event, as the seed's Event model defines it. Unknown extra fields are ignored.")]
public sealed class EventDocument
{
    /// <summary>The seed's <c>json_schema_extra</c> example (design.md, "Event Model (Core)").</summary>
    public const string ExampleJson = """
        {
          "event_id": "evt_123456",
          "timestamp": "2024-01-15T10:30:00Z",
          "event_type": "iot.sensor",
          "user_id": "user_789",
          "device_id": "device_456",
          "payload": {
            "temperature": 22.5,
            "humidity": 65.0
          }
        }
        """;

    [Description("Unique event identifier.")]
    public required string EventId { get; init; }

    [Description("Event occurrence time (event time), ISO 8601; stored in UTC.")]
    public required DateTimeOffset Timestamp { get; init; }

    [Description("Type of event: routes the event to its topic.")]
    public required string EventType { get; init; }

    [Description("User identifier. The Kafka record key when present.")]
    public string? UserId { get; init; }

    [Description("Device identifier. The Kafka record key when there is no user_id.")]
    public string? DeviceId { get; init; }

    [Description("Event-specific data: a JSON object.")]
    public required JsonObject Payload { get; init; }

    [Description("Additional metadata: a JSON object, or absent.")]
    public JsonObject? Metadata { get; init; }

    /// <summary>A fresh copy of <see cref="ExampleJson"/> (JSON nodes have one parent each).</summary>
    public static JsonObject Example() => JsonNode.Parse(ExampleJson)!.AsObject();
}
