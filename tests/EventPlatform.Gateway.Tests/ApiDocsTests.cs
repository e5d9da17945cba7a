using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// The OpenAPI document and the docs page, read from the real gateway over HTTP. Routes are taken
/// from the app's own endpoint table, so a route added later must be documented to pass.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed partial class ApiDocsTests(GatewayFixture gateway)
{
    private const string DocumentPath = "openapi/v1.json";

    /// <summary>Routes that are not part of the API they describe or that speak another format (supervisors' probes among them).</summary>
    private static readonly string[] UndocumentedPrefixes = ["/openapi/", "/docs", "/metrics", "/health/"];

    /// <summary>The seed's example event (design.md, "Event Model (Core)", json_schema_extra), written out independently here.</summary>
    private static readonly JsonObject SeedExample = new()
    {
        ["event_id"] = "evt_123456",
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = "iot.sensor",
        ["user_id"] = "user_789",
        ["device_id"] = "device_456",
        ["payload"] = new JsonObject { ["temperature"] = 22.5, ["humidity"] = 65.0 },
    };

    private static readonly int[] PublishErrorStatuses = [400, 401, 403, 404, 413, 415, 429, 503];

    private HttpClient Anonymous() => new() { BaseAddress = gateway.Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private async Task<JsonObject> DocumentAsync()
    {
        using var client = Anonymous();
        using var response = await client.GetAsync(DocumentPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private IEnumerable<RouteEndpoint> ApiEndpoints() =>
        gateway.Server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => !UndocumentedPrefixes.Any(p => OpenApiPath(e.RoutePattern).StartsWith(p, StringComparison.Ordinal)));

    /// <summary>A route pattern as OpenAPI writes it: parameters as {name}, without constraints or defaults.</summary>
    private static string OpenApiPath(RoutePattern pattern) =>
        "/" + string.Join("/", pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            _ => throw new InvalidOperationException($"Unexpected route part {part}"),
        }))));

    private static JsonObject Operation(JsonObject document, string path, string method) =>
        document["paths"]?[path]?[method]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"{method.ToUpperInvariant()} {path} is not in the document");

    private static string? Ref(JsonNode? node) => (string?)node?["$ref"];

    [Fact]
    public async Task Every_mapped_route_is_in_the_document_with_its_methods_an_operation_id_and_a_summary()
    {
        var document = await DocumentAsync();
        var endpoints = ApiEndpoints().ToList();
        Assert.NotEmpty(endpoints);

        var operationIds = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var path = OpenApiPath(endpoint.RoutePattern);
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            Assert.True(methods is { Count: > 0 }, $"{path} ({endpoint.DisplayName}) accepts any method: map it with MapGet/MapPost/... so it can be documented");
            foreach (var method in methods!)
            {
                var operation = Operation(document, path, method.ToLowerInvariant());
                var operationId = (string?)operation["operationId"];
                Assert.False(string.IsNullOrEmpty(operationId), $"{method} {path} has no operationId (WithName)");
                Assert.False(string.IsNullOrEmpty((string?)operation["summary"]), $"{method} {path} has no summary (WithSummary)");
                operationIds.Add(operationId!);
            }
        }

        Assert.Equal(operationIds.Count, operationIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains("PublishEvent", operationIds);
        Assert.Contains("PublishEventBatch", operationIds);
        Assert.Contains("Health", operationIds);
    }

    [Fact]
    public async Task Publish_operations_take_the_seeds_Event_with_its_example()
    {
        var document = await DocumentAsync();

        var single = Operation(document, "/api/v1/events/{topic}", "post")["requestBody"]!;
        Assert.True((bool?)single["required"]);
        var singleJson = single["content"]!["application/json"]!;
        Assert.Equal("#/components/schemas/Event", Ref(singleJson["schema"]));
        Assert.True(JsonNode.DeepEquals(SeedExample, singleJson["example"]), $"example was {singleJson["example"]?.ToJsonString()}");

        var batch = Operation(document, "/api/v1/events/{topic}/batch", "post")["requestBody"]!;
        Assert.True((bool?)batch["required"]);
        var batchJson = batch["content"]!["application/json"]!;
        Assert.Equal("array", (string?)batchJson["schema"]!["type"]);
        Assert.Equal("#/components/schemas/Event", Ref(batchJson["schema"]!["items"]));
        Assert.True(JsonNode.DeepEquals(SeedExample, batchJson["example"]![0]), $"example was {batchJson["example"]?.ToJsonString()}");

        var schema = document["components"]!["schemas"]!["Event"]!.AsObject();
        Assert.Equal(
            ["event_id", "event_type", "payload", "timestamp"],
            schema["required"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));
        var properties = schema["properties"]!.AsObject();
        Assert.Equal(
            ["device_id", "event_id", "event_type", "metadata", "payload", "timestamp", "user_id"],
            properties.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("string", (string?)properties["event_id"]!["type"]);
        Assert.Equal("string", (string?)properties["timestamp"]!["type"]);
        Assert.Equal("date-time", (string?)properties["timestamp"]!["format"]);
        Assert.Equal("object", (string?)properties["payload"]!["type"]);
        Assert.Contains("object", Types(properties["metadata"]!));
        Assert.Contains("null", Types(properties["user_id"]!));
        Assert.Contains("string", Types(properties["device_id"]!));
        // Dynamic topics are off in this gateway: only the planned types are accepted.
        Assert.Equal(["clickstream", "iot.sensor", "transaction"], properties["event_type"]!["enum"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));
        Assert.True(JsonNode.DeepEquals(SeedExample, schema["examples"]![0]));
    }

    [Fact]
    public async Task Every_answer_is_documented_with_its_model_and_errors_with_ErrorResponse()
    {
        var document = await DocumentAsync();

        var single = Operation(document, "/api/v1/events/{topic}", "post")["responses"]!;
        Assert.Equal("#/components/schemas/EventResponse", Ref(single["200"]!["content"]!["application/json"]!["schema"]));

        var batch = Operation(document, "/api/v1/events/{topic}/batch", "post")["responses"]!;
        Assert.Equal("#/components/schemas/BatchResponse", Ref(batch["200"]!["content"]!["application/json"]!["schema"]));
        Assert.Equal("#/components/schemas/BatchResponse", Ref(batch["207"]!["content"]!["application/json"]!["schema"]));

        foreach (var responses in new[] { single, batch })
        {
            foreach (var status in PublishErrorStatuses)
            {
                var response = responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                Assert.True(response is not null, $"status {status} is not documented");
                Assert.Equal("#/components/schemas/ErrorResponse", Ref(response["content"]!["application/json"]!["schema"]));
                Assert.Contains("error_code", (string?)response["description"], StringComparison.Ordinal);
            }
        }

        var health = Operation(document, "/api/v1/health", "get")["responses"]!;
        Assert.Equal("#/components/schemas/HealthResponse", Ref(health["200"]!["content"]!["application/json"]!["schema"]));
        Assert.Equal("#/components/schemas/HealthResponse", Ref(health["503"]!["content"]!["application/json"]!["schema"]));

        var error = document["components"]!["schemas"]!["ErrorResponse"]!;
        Assert.Equal(
            ["details", "error_code", "message", "request_id", "timestamp"],
            error["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("date-time", (string?)error["properties"]!["timestamp"]!["format"]);
        Assert.Equal("integer", (string?)document["components"]!["schemas"]!["EventResponse"]!["properties"]!["offset"]!["type"]);
    }

    [Fact]
    public async Task Every_schema_property_is_snake_case()
    {
        var document = await DocumentAsync();
        var schemas = document["components"]!["schemas"]!.AsObject();
        Assert.Contains("HealthResponse", schemas.Select(s => s.Key));

        var names = schemas.SelectMany(s => s.Value!["properties"]?.AsObject().Select(p => (Schema: s.Key, Property: p.Key)) ?? []).ToList();
        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.True(SnakeCase().IsMatch(n.Property), $"{n.Schema}.{n.Property} is not snake_case"));
        Assert.Contains(names, n => n is { Schema: "HealthResponse", Property: "kafka_connected" });
    }

    [Fact]
    public async Task Bearer_scheme_is_declared_and_applied_exactly_to_the_routes_that_require_authorization()
    {
        var document = await DocumentAsync();
        var scheme = document["components"]!["securitySchemes"]!["Bearer"]!;
        Assert.Equal("http", (string?)scheme["type"]);
        Assert.Equal("bearer", (string?)scheme["scheme"]);
        Assert.Equal("JWT", (string?)scheme["bearerFormat"]);

        var authenticated = 0;
        foreach (var endpoint in ApiEndpoints())
        {
            var requiresToken = endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                var security = Operation(document, OpenApiPath(endpoint.RoutePattern), method.ToLowerInvariant())["security"]?.AsArray();
                var bearer = security?.Any(requirement => requirement?["Bearer"] is JsonArray) ?? false;
                Assert.True(requiresToken == bearer, $"{method} {endpoint.RoutePattern.RawText}: requires a token {requiresToken}, documented {bearer}");
                authenticated += requiresToken ? 1 : 0;
            }
        }

        Assert.True(authenticated >= 2, "the publish routes require a token");
    }

    [Fact]
    public async Task Document_and_docs_page_are_public_and_served_without_a_CDN()
    {
        using var client = Anonymous();
        using var page = await client.GetAsync("docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();

        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, src => Assert.DoesNotContain("//", src, StringComparison.Ordinal));
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        foreach (var src in scripts)
        {
            using var script = await client.GetAsync(new Uri(page.RequestMessage!.RequestUri!, src));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            Assert.Contains("javascript", script.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        }

        // Public, and exempt from any rate limiter the gateway puts in front of its routes.
        var docs = gateway.Server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => OpenApiPath(e.RoutePattern) is var p && (p.StartsWith("/docs", StringComparison.Ordinal) || p.StartsWith("/openapi/", StringComparison.Ordinal)))
            .ToList();
        Assert.Contains(docs, e => e.RoutePattern.RawText!.StartsWith("/openapi/", StringComparison.Ordinal));
        Assert.All(docs, e =>
        {
            Assert.NotNull(e.Metadata.GetMetadata<IAllowAnonymous>());
            Assert.NotNull(e.Metadata.GetMetadata<DisableRateLimitingAttribute>());
        });
    }

    [Fact]
    public async Task The_documented_examples_are_accepted_and_the_answers_have_every_required_field()
    {
        var document = await DocumentAsync();
        var schemas = document["components"]!["schemas"]!;

        var single = Operation(document, "/api/v1/events/{topic}", "post")["requestBody"]!["content"]!["application/json"]!["example"]!;
        using var accepted = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(single.DeepClone()));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        AssertHasRequired(schemas["EventResponse"]!, await accepted.JsonAsync());

        var batch = Operation(document, "/api/v1/events/{topic}/batch", "post")["requestBody"]!["content"]!["application/json"]!["example"]!;
        using var batchAccepted = await gateway.Client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(batch.DeepClone()));
        Assert.Equal(HttpStatusCode.OK, batchAccepted.StatusCode);
        var batchBody = await batchAccepted.JsonAsync();
        AssertHasRequired(schemas["BatchResponse"]!, batchBody);
        Assert.All(batchBody["results"]!.AsArray(), r => AssertHasRequired(schemas["BatchItemResult"]!, r!.AsObject()));

        // A rejected slot leaves out what it does not have (topic, partition...): those must not be required.
        var mixed = new JsonArray(single.DeepClone(), new JsonObject { ["event_id"] = "no-fields" });
        using var partly = await gateway.Client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(mixed));
        Assert.Equal(HttpStatusCode.MultiStatus, partly.StatusCode);
        var partlyBody = await partly.JsonAsync();
        AssertHasRequired(schemas["BatchResponse"]!, partlyBody);
        Assert.All(partlyBody["results"]!.AsArray(), r => AssertHasRequired(schemas["BatchItemResult"]!, r!.AsObject()));
        AssertHasRequired(schemas["BatchItemError"]!, partlyBody["results"]![1]!["error"]!.AsObject());

        using var refused = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(new JsonObject()));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        AssertHasRequired(schemas["ErrorResponse"]!, await refused.JsonAsync());
    }

    private static void AssertHasRequired(JsonNode schema, JsonObject body)
    {
        foreach (var name in schema["required"]!.AsArray().Select(n => (string)n!))
        {
            Assert.True(body.ContainsKey(name), $"'{name}' is required by the schema but missing from {body.ToJsonString()}");
        }
    }

    private static IEnumerable<string> Types(JsonNode schema) =>
        schema["type"] switch
        {
            JsonArray many => many.Select(t => (string)t!),
            JsonValue one => [(string)one!],
            _ => schema["oneOf"]?.AsArray().SelectMany(s => Types(s!)) ?? [],
        };

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();

    [GeneratedRegex("<script[^>]*\\ssrc=\"([^\"]+)\"")]
    private static partial Regex ScriptSource();
}
