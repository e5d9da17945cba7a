using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ErrorTests(GatewayFixture gateway)
{
    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string path, HttpContent content)
    {
        var response = await gateway.Client.PostAsync(path, content);
        return (response.StatusCode, await response.JsonAsync());
    }

    [Theory]
    [InlineData("{\"event_id\":", "INVALID_JSON")]
    [InlineData("not json", "INVALID_JSON")]
    [InlineData("", "INVALID_JSON")]
    [InlineData("[1,2]", "INVALID_EVENT")]
    [InlineData("{}", "INVALID_EVENT")]
    public async Task Malformed_bodies_are_400(string body, string code)
    {
        var (status, error) = await PostAsync("api/v1/events/iot.sensors", new StringContentJson(body));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Responses.AssertIsErrorResponse(error, code);
    }

    [Fact]
    public async Task Missing_and_mistyped_fields_are_listed()
    {
        var (status, error) = await PostAsync("api/v1/events/iot.sensors", new StringContentJson("""{"event_id":42,"timestamp":"2024-01-15T10:30:00Z","payload":"nope"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Responses.AssertIsErrorResponse(error, "INVALID_EVENT");
        Assert.Equal(["event_type"], error["details"]!["missing_fields"]!.AsArray().Select(f => (string?)f));
        var invalid = error["details"]!["invalid_fields"]!.AsObject();
        Assert.Equal(["event_id", "payload"], invalid.Select(kv => kv.Key).Order());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/json; charset=latin1")]
    public async Task Wrong_content_type_is_415(string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(TestEvents.Iot("e1").ToJsonString()));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var (status, error) = await PostAsync("api/v1/events/iot.sensors", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Responses.AssertIsErrorResponse(error, "UNSUPPORTED_MEDIA_TYPE");
    }

    [Fact]
    public async Task Oversized_body_is_413()
    {
        var big = TestEvents.Iot("big");
        big["payload"]!["blob"] = new string('x', 1_100_000);
        var (status, error) = await PostAsync("api/v1/events/iot.sensors", TestEvents.Json(big));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Responses.AssertIsErrorResponse(error, "PAYLOAD_TOO_LARGE");
    }

    [Fact]
    public async Task Unknown_event_type_is_400_when_dynamic_topics_are_off()
    {
        var (status, error) = await PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Of("page.view", "e1")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Responses.AssertIsErrorResponse(error, "UNKNOWN_EVENT_TYPE");
    }

    [Fact]
    public async Task Path_topic_that_does_not_match_the_event_type_is_400()
    {
        var (status, error) = await PostAsync("api/v1/events/clickstream", TestEvents.Json(TestEvents.Iot("e1")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Responses.AssertIsErrorResponse(error, "TOPIC_MISMATCH");
        Assert.Equal("events.iot.sensors", (string?)error["details"]!["expected_topic"]);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("dlq")]
    [InlineData("events.aggregated")]
    public async Task Topics_that_take_no_events_are_404(string topic)
    {
        var (status, error) = await PostAsync($"api/v1/events/{topic}", TestEvents.Json(TestEvents.Iot("e1")));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Responses.AssertIsErrorResponse(error, "UNKNOWN_TOPIC");
    }

    [Fact]
    public async Task Batch_over_the_limit_or_not_an_array_is_400()
    {
        var tooMany = new JsonArray([.. Enumerable.Range(0, 1001).Select(i => (JsonNode)TestEvents.Iot($"e{i}"))]);
        var (status, error) = await PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(tooMany));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Responses.AssertIsErrorResponse(error, "INVALID_BATCH");

        (status, error) = await PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(TestEvents.Iot("e1")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Responses.AssertIsErrorResponse(error, "INVALID_BATCH");
    }

    [Fact]
    public async Task Unknown_routes_and_methods_get_ErrorResponse()
    {
        var notFound = await gateway.Client.GetAsync("api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Responses.AssertIsErrorResponse(await notFound.JsonAsync(), "NOT_FOUND");

        var wrongMethod = await gateway.Client.PutAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("e")));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Responses.AssertIsErrorResponse(await wrongMethod.JsonAsync(), "METHOD_NOT_ALLOWED");
    }
}
