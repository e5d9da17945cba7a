using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>The document's title and description, its tags, and the bearer JWT security scheme.</summary>
internal sealed class GatewayDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Event Platform gateway",
            Version = ApiDocumentation.DocumentName,
            Description =
                "Ingests events over HTTP, validates them and writes them to Apache Kafka. " +
                "Field names are snake_case. Every failure is an `ErrorResponse` with a stable `error_code`; " +
                "its `request_id` is also the `X-Request-ID` response header. " +
                "The `/api/v1/events` routes need `Authorization: Bearer <JWT>` (the `token` command prints one).",
        };

        Describe(document, ApiDocsConventions.EventsTag, "Publish events to Kafka.");
        Describe(document, ApiDocsConventions.ServiceTag, "The service itself: health.");

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiDocumentation.BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT signed with JWT_SECRET_KEY (HS256 by default, or JWT_ALGORITHM), with an `exp`.",
        };
        return Task.CompletedTask;
    }

    private static void Describe(OpenApiDocument document, string tag, string description)
    {
        document.Tags ??= new HashSet<OpenApiTag>();
        var existing = document.Tags.FirstOrDefault(t => t.Name == tag);
        if (existing is null)
        {
            document.Tags.Add(new OpenApiTag { Name = tag, Description = description });
        }
        else
        {
            existing.Description ??= description;
        }
    }
}
