using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>
/// Per operation: the bearer requirement wherever the route requires authorization (read from its
/// metadata, so routes added later are covered), the seed's example on event bodies, and the
/// meaning of the <c>{topic}</c> path parameter.
/// </summary>
internal sealed class GatewayOperationTransformer : IOpenApiOperationTransformer
{
    private const string TopicDescription =
        "The topic to publish to: `iot.sensors`, `clickstream`, `transactions`, or the full name (`events.iot.sensors`). " +
        "It must be the topic the event's `event_type` routes to. With dynamic topics on, a new type `T` goes to `events.T`.";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ApiDocumentation.BearerScheme, context.Document)] = [],
            });
        }

        // ApiExplorer gives every answer its status's reason phrase; say what the answer means here.
        foreach (var produces in metadata.OfType<IProducesResponseTypeMetadata>())
        {
            if (produces.Description is { } described
                && operation.Responses?.TryGetValue(produces.StatusCode.ToString(CultureInfo.InvariantCulture), out var response) == true
                && response is OpenApiResponse concreteResponse)
            {
                concreteResponse.Description = described;
            }
        }

        var accepts = metadata.OfType<IAcceptsMetadata>().LastOrDefault()?.RequestType;
        if (operation.RequestBody is OpenApiRequestBody body && ExampleFor(accepts) is { } example)
        {
            body.Required = true;
            body.Description ??= accepts == typeof(EventDocument)
                ? "One event (the seed's Event model)."
                : "A JSON array of events (the seed's Event model).";
            foreach (var media in body.Content?.Values ?? [])
            {
                if (media is OpenApiMediaType concrete)
                {
                    concrete.Example = example.DeepClone();
                }
            }
        }

        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is OpenApiParameter { In: ParameterLocation.Path, Name: "topic", Description: null } topic)
            {
                topic.Description = TopicDescription;
            }
        }

        return Task.CompletedTask;
    }

    private static JsonNode? ExampleFor(Type? requestType) =>
        requestType == typeof(EventDocument) ? EventDocument.Example()
        : requestType == typeof(EventDocument[]) ? new JsonArray(EventDocument.Example(), SecondExample())
        : null;

    private static JsonObject SecondExample()
    {
        var second = EventDocument.Example();
        second["event_id"] = "evt_123457";
        second["timestamp"] = "2024-01-15T10:30:05Z";
        second["payload"]!["temperature"] = 22.7;
        return second;
    }
}
