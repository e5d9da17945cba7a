using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventPlatform.Core.Routing;
using EventPlatform.Schemas.Protobuf;

namespace EventPlatform.LoadGen;

/// <summary>The schema ids the binary formats need, asked once before the run through the registry's REST API.</summary>
internal static class RegistryLookup
{
    /// <summary>Where the generator registers the Protobuf event schema (no topic's subject: the gateway stores Avro).</summary>
    public const string ProtobufSubject = "loadgen-protobuf-event";

    /// <summary>The bodies for <paramref name="options"/>' format, looking up or registering its schema.</summary>
    public static async Task<RequestBodies> BodiesAsync(LoadGenOptions options, EventBodyFactory json, CancellationToken ct)
    {
        if (options.Format == BodyFormat.Json)
        {
            return RequestBodies.Json(json);
        }

        using var registry = new HttpClient { BaseAddress = new Uri(options.RegistryUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(10) };
        if (!string.IsNullOrEmpty(options.RegistryUserInfo))
        {
            registry.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(options.RegistryUserInfo)));
        }
        if (options.Format == BodyFormat.Avro)
        {
            // The topic's value subject (Confluent's TopicNameStrategy), as the gateway registers it.
            var subject = TopicRouter.FullTopicName(options.Topic) + "-value";
            var latest = await SendAsync(registry, new HttpRequestMessage(HttpMethod.Get, $"subjects/{Uri.EscapeDataString(subject)}/versions/latest"), ct).ConfigureAwait(false);
            return RequestBodies.Avro(json, latest["id"]!.GetValue<int>(), latest["schema"]!.GetValue<string>());
        }

        var body = new JsonObject { ["schemaType"] = "PROTOBUF", ["schema"] = SeedProtobufSchemas.Event }.ToJsonString();
        var register = new HttpRequestMessage(HttpMethod.Post, $"subjects/{ProtobufSubject}/versions")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/vnd.schemaregistry.v1+json")),
        };
        var registered = await SendAsync(registry, register, ct).ConfigureAwait(false);
        return RequestBodies.Protobuf(json, registered["id"]!.GetValue<int>());
    }

    private static async Task<JsonNode> SendAsync(HttpClient registry, HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            using var response = await registry.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The schema registry answered {(int)response.StatusCode} to {request.Method} {request.RequestUri}: {text}");
            }

            try
            {
                return JsonNode.Parse(text) ?? throw new InvalidOperationException($"The schema registry sent no answer to {request.Method} {request.RequestUri}.");
            }
            catch (JsonException ex)
            {
                throw new InvalidOperationException($"The schema registry's answer to {request.Method} {request.RequestUri} is not JSON: {ex.Message}", ex);
            }
        }
    }
}
