using System.Text.Json.Nodes;

namespace EventPlatform.Testing;

/// <summary>Event bodies as clients send them.</summary>
public static class TestEvents
{
    public static JsonObject Iot(string eventId, string? deviceId = "device_456", string? userId = null) => new()
    {
        ["event_id"] = eventId,
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = "iot.sensor",
        ["user_id"] = userId,
        ["device_id"] = deviceId,
        ["payload"] = new JsonObject { ["temperature"] = 22.5, ["humidity"] = 65.0 },
    };

    public static JsonObject Of(string eventType, string eventId, string? userId = null, string? deviceId = null) => new()
    {
        ["event_id"] = eventId,
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = eventType,
        ["user_id"] = userId,
        ["device_id"] = deviceId,
        ["payload"] = new JsonObject { ["value"] = 1 },
    };

    public static StringContentJson Json(JsonNode node) => new(node.ToJsonString());
}

/// <summary>A JSON request body with the right content type.</summary>
public sealed class StringContentJson(string json) : StringContent(json, System.Text.Encoding.UTF8, "application/json");
