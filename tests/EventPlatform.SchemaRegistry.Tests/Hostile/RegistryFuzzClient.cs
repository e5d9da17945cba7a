using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventPlatform.SchemaRegistry.Tests.Hostile;

/// <summary>
/// Sends one fuzz request through the fixture's client and checks what every answer must be: no 5xx,
/// an answer (no dropped connection) within the time limit, and Confluent's error body on any 4xx.
/// </summary>
internal static class RegistryFuzzClient
{
    /// <summary>Generous for one request on a shared machine; hostile input must be answered quickly, not merely eventually.</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(20);

    public static async Task<int> SendAsync(
        HttpClient client, HttpMethod method, string path, byte[]? body, string? contentType = "application/vnd.schemaregistry.v1+json", bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.ExpectContinue = expectContinue;
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        using var timeout = new CancellationTokenSource(TimeLimit);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, timeout.Token);
        }
        catch (TaskCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException($"{method} {path} got no answer within {TimeLimit} ({Describe(body)})");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{method} {path} answered {status}: {text} ({Describe(body)})");
            // Kestrel itself refuses a malformed or oversized request line (a NUL in the path, 20 KB of
            // path) with an empty 400/414/431 before any middleware runs; every answer the registry
            // writes has Confluent's body.
            if (status >= 400 && !(status is 400 or 414 or 431 && text.Length == 0))
            {
                AssertConfluentError(method, path, status, text);
            }

            return status;
        }
    }

    public static Task<int> SendAsync(HttpClient client, HttpMethod method, string path, string body) =>
        SendAsync(client, method, path, System.Text.Encoding.UTF8.GetBytes(body));

    /// <summary>The registry still does its job: lists subjects and registers a schema.</summary>
    public static async Task AssertHealthyAsync(HttpClient client)
    {
        Assert.Equal(200, await SendAsync(client, HttpMethod.Get, "/subjects", (byte[]?)null));
        var subject = $"fuzz-health-{Guid.NewGuid():N}";
        var schema = JsonSerializer.Serialize(new { schema = """{"type":"record","name":"Ok","fields":[{"name":"a","type":"string"}]}""" });
        Assert.Equal(200, await SendAsync(client, HttpMethod.Post, $"/subjects/{subject}/versions", schema));
    }

    private static void AssertConfluentError(HttpMethod method, string path, int status, string text)
    {
        JsonNode? node = null;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
        }

        Assert.True(node is JsonObject, $"{method} {path} answered {status} without a JSON error body: {text}");
        Assert.True(node!["error_code"] is JsonValue code && code.TryGetValue<int>(out _), $"{method} {path} answered {status} without error_code: {text}");
        Assert.True(node["message"] is JsonValue message && message.TryGetValue<string>(out _), $"{method} {path} answered {status} without message: {text}");
    }

    private static string Describe(byte[]? body) =>
        body is null ? "no body" : body.Length <= 200 ? "body " + Convert.ToHexString(body) : $"body of {body.Length} bytes";
}
