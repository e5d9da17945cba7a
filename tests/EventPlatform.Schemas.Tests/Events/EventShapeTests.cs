using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Schemas.Tests.Events;

/// <summary>The Avro record's JSON back into the API's event JSON.</summary>
public class EventShapeTests
{
    [Theory]
    // Epoch milliseconds become an RFC 3339 timestamp; payload and metadata text holding objects become objects.
    [InlineData("""{"event_id":"e1","timestamp":1705314600123,"payload":"{\"t\":22.5,\"s\":\"a\\\"b\"}","metadata":"{\"source\":\"x\"}"}""",
                """{"event_id":"e1","timestamp":"2024-01-15T10:30:00.123Z","payload":{"t":22.5,"s":"a\"b"},"metadata":{"source":"x"}}""")]
    // Text that is not one object stays a string (the event reader then refuses it); null stays null.
    [InlineData("""{"payload":"[1,2]","metadata":null,"user_id":"\u00e9\"q"}""", """{"payload":"[1,2]","metadata":null,"user_id":"\u00e9\"q"}""")]
    [InlineData("""{"payload":"{\"a\":1} {}","metadata":"not json"}""", """{"payload":"{\"a\":1} {}","metadata":"not json"}""")]
    // A timestamp that is not a number, and nested values of other fields, are copied as they are.
    [InlineData("""{"timestamp":"2024-01-15T10:30:00Z","extra":{"a":[1,{"b":null}]}}""", """{"timestamp":"2024-01-15T10:30:00Z","extra":{"a":[1,{"b":null}]}}""")]
    // Not a record at all: left for the event reader to refuse.
    [InlineData("\"just a string\"", "\"just a string\"")]
    public void Avro_json_is_reshaped_into_event_json(string decoded, string expected)
    {
        var shaped = EventShape.FromAvroJson(Encoding.UTF8.GetBytes(decoded));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(shaped)), Encoding.UTF8.GetString(shaped));
    }
}
