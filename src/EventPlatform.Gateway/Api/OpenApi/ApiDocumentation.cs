using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EventPlatform.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Scalar.AspNetCore;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>
/// The gateway's OpenAPI 3.1 document (<c>GET /openapi/v1.json</c>) and its interactive
/// documentation page (<c>GET /docs</c>, Scalar, served whole by the gateway: no CDN, no
/// internet needed). Both are public and outside the rate-limited event routes.
/// </summary>
public static class ApiDocumentation
{
    /// <summary>The name of the one document (the <c>v1</c> of its path).</summary>
    public const string DocumentName = "v1";

    /// <summary>The route pattern of the document.</summary>
    public const string DocumentRoute = "/openapi/{documentName}.json";

    /// <summary>The path of the documentation page.</summary>
    public const string DocsPath = "/docs";

    /// <summary>The security scheme name of the bearer JWT in the document.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>Schema generation with the names the API writes (snake_case), and the document's transformers.</summary>
    public static IServiceCollection AddGatewayApiDocs(this IServiceCollection services)
    {
        // The document's schemas come from these options: the same naming and the same
        // source-generated contracts as the bodies the API actually writes.
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // The web defaults read numbers from strings too, which would document every number
            // as "integer or string"; the API writes plain numbers.
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiDocsJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, GatewayJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(2, CoreJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(3, Metrics.MetricsJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(4, Streaming.StreamingJsonContext.Default);
        });

        services.AddOpenApi(DocumentName, options =>
        {
            // The seed's name for the event model; free-form JSON objects inline as {"type": "object"}.
            options.CreateSchemaReferenceId = type =>
                type.Type == typeof(EventDocument) ? "Event"
                : type.Type == typeof(JsonObject) ? null
                : OpenApiOptions.CreateDefaultSchemaReferenceId(type);
            options.AddDocumentTransformer<GatewayDocumentTransformer>();
            options.AddOperationTransformer<GatewayOperationTransformer>();
            options.AddSchemaTransformer<GatewaySchemaTransformer>();
        });
        return services;
    }

    /// <summary>Maps the document and the documentation page: public, never rate limited, not in the document themselves.</summary>
    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentRoute).AllowAnonymous().DisableRateLimiting();
        app.MapScalarApiReference(DocsPath, options => options
                .WithTitle("Event Platform gateway API")
                .WithOpenApiRoutePattern(DocumentRoute)
                .AddPreferredSecuritySchemes(BearerScheme)
                .ExpandAllTags()
                .PreserveSchemaPropertyOrder()
                // Offline by default: the page's script is served by the gateway itself; these
                // options would otherwise reach Scalar's servers (fonts, telemetry, AI agent, MCP,
                // the hosted developer toolbar).
                .HideDeveloperTools()
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .DisableMcp())
            .AllowAnonymous()
            .DisableRateLimiting();
        return app;
    }
}
