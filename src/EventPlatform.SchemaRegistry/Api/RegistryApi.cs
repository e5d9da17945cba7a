using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EventPlatform.SchemaRegistry.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.SchemaRegistry.Api;

/// <summary>
/// Confluent Schema Registry's REST API: the same paths, query parameters, bodies, status codes
/// and error codes, so that Confluent's clients and serializers work against it unchanged.
/// </summary>
public static class RegistryApi
{
    /// <summary>Confluent's response media type.</summary>
    public const string ContentType = "application/vnd.schemaregistry.v1+json";

    /// <summary>Maps every route.</summary>
    public static IEndpointRouteBuilder MapRegistryApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", static (HttpContext c) => WriteAsync(c, new Dictionary<string, string>(), RegistryJsonContext.Api.DictionaryStringString));
        app.MapGet("/contexts", static (HttpContext c) => WriteAsync(c, ["."], RegistryJsonContext.Api.ListString));
        app.MapGet("/schemas/types", static (HttpContext c, SchemaRegistryService r) =>
            WriteAsync(c, r.Formats.Types.Select(t => t.ToString()).ToList(), RegistryJsonContext.Api.ListString));

        MapSubjects(app);
        MapSchemas(app);
        MapConfigAndMode(app);

        app.MapPost("/compatibility/subjects/{subject}/versions/{version}", static async (HttpContext c, SchemaRegistryService r, string subject, string version) =>
            await CompatibilityAsync(c, r, subject, version).ConfigureAwait(false));
        app.MapPost("/compatibility/subjects/{subject}/versions", static async (HttpContext c, SchemaRegistryService r, string subject) =>
            await CompatibilityAsync(c, r, subject, null).ConfigureAwait(false));
        return app;
    }

    private static void MapSubjects(IEndpointRouteBuilder app)
    {
        app.MapGet("/subjects", static (HttpContext c, SchemaRegistryService r) =>
            WriteAsync(c, r.Subjects(Flag(c, "deleted"), Query(c, "subjectPrefix")).ToList(), RegistryJsonContext.Api.ListString));

        app.MapGet("/subjects/{subject}/versions", static (HttpContext c, SchemaRegistryService r, string subject) =>
            WriteAsync(c, r.Versions(subject, Flag(c, "deleted")).ToList(), RegistryJsonContext.Api.ListInt32));

        app.MapPost("/subjects/{subject}/versions", static async (HttpContext c, SchemaRegistryService r, RegistryMetrics metrics, string subject) =>
        {
            var request = await ReadAsync(c, RegistryJsonContext.Api.RegisterRequest).ConfigureAwait(false);
            var type = string.IsNullOrEmpty(request.SchemaType) ? "AVRO" : request.SchemaType.ToUpperInvariant();
            try
            {
                var (registered, created) = await r.RegisterWithOutcomeAsync(subject, request, Flag(c, "normalize"), c.RequestAborted).ConfigureAwait(false);
                metrics.Registration(type, created ? "registered" : "existing");
                await WriteAsync(c, ToResponse(registered), RegistryJsonContext.Api.SchemaResponse).ConfigureAwait(false);
            }
            catch (SchemaRegistryException e)
            {
                metrics.Registration(type, e.Status switch { 409 => "incompatible", 422 when e.ErrorCode == 42201 => "invalid", _ => "refused" });
                throw;
            }
        });

        app.MapPost("/subjects/{subject}", static async (HttpContext c, SchemaRegistryService r, string subject) =>
        {
            var request = await ReadAsync(c, RegistryJsonContext.Api.RegisterRequest).ConfigureAwait(false);
            var found = r.Lookup(subject, request, Flag(c, "normalize"), Flag(c, "deleted"));
            await WriteAsync(c, ToResponse(found), RegistryJsonContext.Api.SchemaResponse).ConfigureAwait(false);
        });

        app.MapGet("/subjects/{subject}/versions/{version}", static (HttpContext c, SchemaRegistryService r, string subject, string version) =>
            WriteAsync(c, ToResponse(r.Version(subject, version, Flag(c, "deleted"))), RegistryJsonContext.Api.SchemaResponse));

        app.MapGet("/subjects/{subject}/versions/{version}/schema", static (HttpContext c, SchemaRegistryService r, string subject, string version) =>
            WriteRawAsync(c, r.Version(subject, version, Flag(c, "deleted")).Content.Schema));

        app.MapGet("/subjects/{subject}/metadata", static (HttpContext c, SchemaRegistryService r, string subject) =>
        {
            // ?key=k1&value=v1&key=k2&value=v2, pairs in order.
            var keys = c.Request.Query["key"];
            var values = c.Request.Query["value"];
            var pairs = keys.Zip(values, (k, v) => KeyValuePair.Create(k ?? "", v ?? "")).ToList();
            return WriteAsync(c, ToResponse(r.LatestWithMetadata(subject, pairs, Flag(c, "deleted"))), RegistryJsonContext.Api.SchemaResponse);
        });

        app.MapGet("/subjects/{subject}/versions/{version}/referencedby", static (HttpContext c, SchemaRegistryService r, string subject, string version) =>
            WriteAsync(c, r.ReferencedBy(subject, version).ToList(), RegistryJsonContext.Api.ListInt32));

        app.MapDelete("/subjects/{subject}", static async (HttpContext c, SchemaRegistryService r, string subject) =>
        {
            var deleted = await r.DeleteSubjectAsync(subject, Flag(c, "permanent"), c.RequestAborted).ConfigureAwait(false);
            await WriteAsync(c, deleted.ToList(), RegistryJsonContext.Api.ListInt32).ConfigureAwait(false);
        });

        app.MapDelete("/subjects/{subject}/versions/{version}", static async (HttpContext c, SchemaRegistryService r, string subject, string version) =>
        {
            var deleted = await r.DeleteVersionAsync(subject, version, Flag(c, "permanent"), c.RequestAborted).ConfigureAwait(false);
            await WriteAsync(c, deleted, RegistryJsonContext.Api.Int32).ConfigureAwait(false);
        });
    }

    private static void MapSchemas(IEndpointRouteBuilder app)
    {
        app.MapGet("/schemas", static (HttpContext c, SchemaRegistryService r) =>
            WriteAsync(c, r.AllSchemas(Query(c, "subjectPrefix"), Flag(c, "deleted"), Flag(c, "latestOnly")).Select(ToResponse).ToList(), RegistryJsonContext.Api.ListSchemaResponse));

        app.MapGet("/schemas/ids/{id:int}", static (HttpContext c, SchemaRegistryService r, int id) =>
        {
            var content = r.SchemaById(id, Query(c, "subject"));
            return WriteAsync(c, ToResponse(content), RegistryJsonContext.Api.SchemaResponse);
        });

        app.MapGet("/schemas/ids/{id:int}/schema", static (HttpContext c, SchemaRegistryService r, int id) =>
            WriteRawAsync(c, r.SchemaById(id, Query(c, "subject")).Schema));

        app.MapGet("/schemas/ids/{id:int}/subjects", static (HttpContext c, SchemaRegistryService r, int id) =>
            WriteAsync(c, r.VersionsById(id, Flag(c, "deleted")).Select(v => v.Subject).Distinct().ToList(), RegistryJsonContext.Api.ListString));

        app.MapGet("/schemas/ids/{id:int}/versions", static (HttpContext c, SchemaRegistryService r, int id) =>
            WriteAsync(c, r.VersionsById(id, Flag(c, "deleted")).Select(v => new SubjectVersionPair(v.Subject, v.Version)).ToList(), RegistryJsonContext.Api.ListSubjectVersionPair));
    }

    private static void MapConfigAndMode(IEndpointRouteBuilder app)
    {
        app.MapGet("/config", static (HttpContext c, SchemaRegistryService r) => WriteConfigAsync(c, r.GlobalConfig()));
        app.MapGet("/config/{subject}", static (HttpContext c, SchemaRegistryService r, string subject) =>
            WriteConfigAsync(c, r.SubjectConfig(subject, Flag(c, "defaultToGlobal"))));
        app.MapPut("/config", static async (HttpContext c, SchemaRegistryService r) => await PutConfigAsync(c, r, null).ConfigureAwait(false));
        app.MapPut("/config/{subject}", static async (HttpContext c, SchemaRegistryService r, string subject) => await PutConfigAsync(c, r, subject).ConfigureAwait(false));
        app.MapDelete("/config/{subject}", static async (HttpContext c, SchemaRegistryService r, string subject) =>
            await WriteConfigAsync(c, await r.DeleteConfigAsync(subject, c.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));

        app.MapGet("/mode", static (HttpContext c, SchemaRegistryService r) => WriteModeAsync(c, r.GlobalMode()));
        app.MapGet("/mode/{subject}", static (HttpContext c, SchemaRegistryService r, string subject) =>
            WriteModeAsync(c, r.SubjectMode(subject, Flag(c, "defaultToGlobal"))));
        app.MapPut("/mode", static async (HttpContext c, SchemaRegistryService r) => await PutModeAsync(c, r, null).ConfigureAwait(false));
        app.MapPut("/mode/{subject}", static async (HttpContext c, SchemaRegistryService r, string subject) => await PutModeAsync(c, r, subject).ConfigureAwait(false));
        app.MapDelete("/mode/{subject}", static async (HttpContext c, SchemaRegistryService r, string subject) =>
            await WriteModeAsync(c, await r.DeleteModeAsync(subject, c.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
    }

    private static async Task CompatibilityAsync(HttpContext c, SchemaRegistryService r, string subject, string? version)
    {
        var request = await ReadAsync(c, RegistryJsonContext.Api.RegisterRequest).ConfigureAwait(false);
        var messages = r.CheckCompatibility(subject, version, request, Flag(c, "normalize"));
        c.RequestServices.GetService<RegistryMetrics>()?.CompatibilityCheck(messages.Count == 0);
        var verbose = Flag(c, "verbose");
        await WriteAsync(c, new CompatibilityResponse(messages.Count == 0, verbose ? [.. messages] : null), RegistryJsonContext.Api.CompatibilityResponse).ConfigureAwait(false);
    }

    private static async Task PutConfigAsync(HttpContext c, SchemaRegistryService r, string? subject)
    {
        var body = await ReadAsync(c, RegistryJsonContext.Api.ConfigUpdate).ConfigureAwait(false);
        var set = await r.SetConfigAsync(subject, body.Compatibility ?? body.CompatibilityLevel, body.Normalize, c.RequestAborted).ConfigureAwait(false);
        await WriteAsync(c, new ConfigUpdate { Compatibility = set.CompatibilityLevel, Normalize = set.Normalize }, RegistryJsonContext.Api.ConfigUpdate).ConfigureAwait(false);
    }

    private static async Task PutModeAsync(HttpContext c, SchemaRegistryService r, string? subject)
    {
        var body = await ReadAsync(c, RegistryJsonContext.Api.ModeBody).ConfigureAwait(false);
        var set = await r.SetModeAsync(subject, body.Mode, Flag(c, "force"), c.RequestAborted).ConfigureAwait(false);
        await WriteModeAsync(c, set).ConfigureAwait(false);
    }

    private static Task WriteConfigAsync(HttpContext c, RegistryConfig config) =>
        WriteAsync(c, new ConfigResponse(config.CompatibilityLevel, config.Normalize), RegistryJsonContext.Api.ConfigResponse);

    private static Task WriteModeAsync(HttpContext c, RegistryMode mode) =>
        WriteAsync(c, new ModeBody { Mode = mode.ToString() }, RegistryJsonContext.Api.ModeBody);

    private static SchemaResponse ToResponse(SubjectVersion v)
    {
        var response = ToResponse(v.Content);
        response.Subject = v.Subject;
        response.Version = v.Version;
        response.Id = v.Id;
        response.Deleted = v.Deleted ? true : null;
        return response;
    }

    private static SchemaResponse ToResponse(SchemaContent content) => new()
    {
        SchemaType = content.Type == Schemas.SchemaType.AVRO ? null : content.Type.ToString(),
        Schema = content.Schema,
        References = content.References.Count == 0 ? null : [.. content.References.Select(x => new ReferenceDto { Name = x.Name, Subject = x.Subject, Version = x.Version })],
        Metadata = content.Metadata,
        RuleSet = content.RuleSet,
    };

    private static string? Query(HttpContext c, string name) =>
        c.Request.Query.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;

    private static bool Flag(HttpContext c, string name) =>
        bool.TryParse(Query(c, name), out var value) && value;

    private static async Task<T> ReadAsync<T>(HttpContext c, JsonTypeInfo<T> type)
        where T : class
    {
        // Confluent accepts its own media types, application/json and octet-stream alike.
        T body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(c.Request.Body, type, c.RequestAborted).ConfigureAwait(false)
                ?? throw RegistryErrors.BadRequest("The request body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw RegistryErrors.BadRequest("Invalid JSON in the request body: " + e.Message);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString's answer to invalid UTF-8 and lone surrogates, where the serializer does not wrap it.
            throw RegistryErrors.BadRequest("Invalid text in the request body: " + e.Message);
        }

        if (body is SchemaBody schema)
        {
            RequestText.EnsureValid(schema.Metadata, "metadata");
            RequestText.EnsureValid(schema.RuleSet, "ruleSet");
        }

        return body;
    }

    internal static Task WriteAsync<T>(HttpContext c, T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK)
    {
        c.Response.StatusCode = status;
        return c.Response.WriteAsJsonAsync(value, type, ContentType, c.RequestAborted);
    }

    private static Task WriteRawAsync(HttpContext c, string schema)
    {
        c.Response.ContentType = ContentType;
        return c.Response.WriteAsync(schema, c.RequestAborted);
    }
}
