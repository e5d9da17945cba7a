using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EventPlatform.Core;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Routing;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>
/// Descriptions of the API's models, the seed's example on the <c>Event</c> schema (as FastAPI
/// shows <c>json_schema_extra</c>), and the accepted <c>event_type</c>s when only planned types are.
/// </summary>
internal sealed class GatewaySchemaTransformer : IOpenApiSchemaTransformer
{
    private static readonly Dictionary<Type, string> TypeDescriptions = new()
    {
        [typeof(EventResponse)] = "The seed's EventResponse: sent only after Kafka acknowledged the write (acks=all).",
        [typeof(BatchResponse)] = "One result per event of the batch, in request order, and the counts.",
        [typeof(BatchItemResult)] = "One event of a batch: where it landed (status accepted), or why it was not (status rejected, with error).",
        [typeof(BatchItemError)] = "Why one event of a batch was not accepted: the same error_code and details an ErrorResponse would carry.",
        [typeof(HealthResponse)] = "The seed's HealthResponse, measured at call time (cached for a second).",
        [typeof(ErrorResponse)] = "The seed's ErrorResponse: the body of every failure. Branch on error_code; quote request_id when reporting.",
    };

    /// <summary>The instances the API writes its bodies with; the document follows their null handling.</summary>
    private static readonly JsonSerializerContext[] Writers = [GatewayJsonContext.Api, CoreJsonContext.Api];

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // An object type's schema may come here as the schema of a property that holds it (the
        // error of a batch result): judge by the type, not by whether a property is set.
        var type = context.JsonTypeInfo.Type;
        var isObject = context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object;
        if (isObject && TypeDescriptions.TryGetValue(type, out var description))
        {
            schema.Description ??= description;
        }

        if (isObject && OmitsNulls(type))
        {
            // A null property is left out of the body, so a nullable one may be absent.
            foreach (var member in context.JsonTypeInfo.Properties)
            {
                if (member.IsGetNullable)
                {
                    schema.Required?.Remove(member.Name);
                }
            }
        }

        if (isObject && type == typeof(EventDocument))
        {
            schema.Examples = [EventDocument.Example()];
        }

        if (context.JsonPropertyInfo is { Name: "event_type" } property && property.DeclaringType == typeof(EventDocument))
        {
            var router = context.ApplicationServices.GetRequiredService<TopicRouter>();
            var planned = router.Plan.Topics.Where(t => t.EventType is not null).Select(t => t.EventType!).ToList();
            if (router.DynamicTopics)
            {
                schema.Description += $" Planned types: {string.Join(", ", planned)}; any other type gets its own topic events.<event_type> (dynamic topics are on).";
            }
            else
            {
                schema.Enum = [.. planned.Select(t => (JsonNode)JsonValue.Create(t))];
            }
        }

        return Task.CompletedTask;
    }

    private static bool OmitsNulls(Type type) =>
        Writers.FirstOrDefault(w => w.GetTypeInfo(type) is not null) is { } writer
        && writer.Options.DefaultIgnoreCondition is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault;
}
