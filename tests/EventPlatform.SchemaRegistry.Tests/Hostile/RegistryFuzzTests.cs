using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EventPlatform.SchemaRegistry.Tests.Registry;
using EventPlatform.Schemas.Tests.Hostile;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.SchemaRegistry.Tests.Hostile;

/// <summary>
/// Hostile requests against the running registry over real HTTP: random bytes, bit flips of valid
/// bodies, invalid UTF-8 and lone surrogates in every field, huge and deep structures, wrong content
/// types and lengths, and hostile schemas of all three types, on every route. Every answer is a 4xx
/// (or a success) in Confluent's format, in time, and the registry keeps serving.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Fuzz")]
public sealed class RegistryFuzzTests(RegistryFixture fixture)
{
    private static readonly string Subject = $"fuzz-{Guid.NewGuid():N}";

    // Routes that take a body. Global PUT /config and /mode are left out of the mutation tests: a
    // mutation that stays valid would change the registry for the other tests in the collection.
    private static readonly (HttpMethod Method, string Path)[] BodyRoutes =
    [
        (HttpMethod.Post, $"/subjects/{Subject}/versions"),
        (HttpMethod.Post, $"/subjects/{Subject}-{{0}}/versions?normalize=true"),
        (HttpMethod.Post, $"/subjects/{Subject}"),
        (HttpMethod.Post, $"/compatibility/subjects/{Subject}/versions/latest?verbose=true"),
        (HttpMethod.Post, $"/compatibility/subjects/{Subject}/versions"),
        (HttpMethod.Put, $"/config/{Subject}-{{0}}"),
        (HttpMethod.Put, $"/mode/{Subject}-{{0}}"),
    ];

    private static readonly (HttpMethod Method, string Path)[] BodilessRoutes =
    [
        (HttpMethod.Get, "/subjects"),
        (HttpMethod.Get, $"/subjects/{Subject}/versions"),
        (HttpMethod.Get, $"/subjects/{Subject}/versions/latest"),
        (HttpMethod.Get, $"/subjects/{Subject}/versions/1/schema"),
        (HttpMethod.Get, $"/subjects/{Subject}/versions/1/referencedby"),
        (HttpMethod.Get, $"/subjects/{Subject}/metadata?key=a&value=b"),
        (HttpMethod.Get, "/schemas?subjectPrefix=fuzz"),
        (HttpMethod.Get, "/schemas/ids/1"),
        (HttpMethod.Get, "/schemas/ids/1/schema"),
        (HttpMethod.Get, "/schemas/ids/1/subjects"),
        (HttpMethod.Get, "/schemas/ids/1/versions"),
        (HttpMethod.Get, "/schemas/types"),
        (HttpMethod.Get, "/config"),
        (HttpMethod.Get, $"/config/{Subject}?defaultToGlobal=true"),
        (HttpMethod.Get, "/mode"),
        (HttpMethod.Get, $"/mode/{Subject}?defaultToGlobal=true"),
        (HttpMethod.Delete, $"/subjects/{Subject}-gone-{{0}}"),
        (HttpMethod.Delete, $"/subjects/{Subject}-gone-{{0}}/versions/1?permanent=true"),
        (HttpMethod.Delete, $"/config/{Subject}-gone-{{0}}"),
        (HttpMethod.Delete, $"/mode/{Subject}-gone-{{0}}"),
    ];

    private static readonly string[] ValidBodies =
    [
        JsonSerializer.Serialize(new { schema = TestSchemas.V1 }),
        JsonSerializer.Serialize(new { schemaType = "JSON", schema = """{"type":"object","properties":{"a":{"type":"string","pattern":"^a+$"}},"required":["a"]}""" }),
        JsonSerializer.Serialize(new { schemaType = "PROTOBUF", schema = "syntax = \"proto3\"; message M { string a = 1; repeated int64 b = 2; }" }),
        JsonSerializer.Serialize(new { schema = TestSchemas.V2, references = new[] { new { name = "r", subject = "s", version = 1 } }, metadata = new { properties = new { owner = "x" } } }),
        """{"compatibility":"BACKWARD"}""",
        """{"mode":"READWRITE"}""",
    ];

    // Bytes that are not valid text, and escapes that are not valid UTF-16, for any string value.
    private static readonly byte[][] BadStrings =
    [
        [0xFF],
        [0xC3, 0x28],
        [0xC0, 0xAF],
        [0xED, 0xA0, 0x80],
        [0xF4, 0x90, 0x80, 0x80],
        "\\ud800"u8.ToArray(),
        "\\udc00x"u8.ToArray(),
        "\\ud800\\ud800"u8.ToArray(),

        // An escaped escape: valid in the request, a lone surrogate inside the schema's own JSON text.
        "\\\\ud800"u8.ToArray(),
        "\\\\udfff\\\\ud800"u8.ToArray(),
        [0x00],
    ];

    private static readonly string[] ContentTypes =
    [
        "application/vnd.schemaregistry.v1+json", "application/json", "application/octet-stream", "text/plain",
        "application/xml", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/json; charset=bogus-8", "",
    ];

    private HttpClient Client => fixture.Registry.Client;

    [Property(MaxTest = 100)]
    public async Task Random_bytes_on_any_route_get_a_4xx_in_confluents_format(byte[] body, NonNegativeInt route, NonNegativeInt contentType)
    {
        var (method, path) = BodyRoutes[route.Get % BodyRoutes.Length];
        await RegistryFuzzClient.SendAsync(Client, method, Path(path), body, ContentTypes[contentType.Get % ContentTypes.Length]);
    }

    [Property(MaxTest = 150)]
    public async Task Bit_flips_of_valid_bodies_never_get_a_5xx(NonNegativeInt which, NonNegativeInt route, int[] flips)
    {
        var body = Encoding.UTF8.GetBytes(ValidBodies[which.Get % ValidBodies.Length]);
        foreach (var flip in flips.Take(8))
        {
            var bit = (int)((uint)flip % (uint)(body.Length * 8));
            body[bit / 8] ^= (byte)(1 << (bit % 8));
        }

        var (method, path) = BodyRoutes[route.Get % BodyRoutes.Length];
        await RegistryFuzzClient.SendAsync(Client, method, Path(path), body);
    }

    [Property(MaxTest = 100)]
    public async Task Random_paths_and_queries_never_get_a_5xx(NonNegativeInt route, string junk)
    {
        var (method, path) = BodilessRoutes[route.Get % BodilessRoutes.Length];
        var escaped = Uri.EscapeDataString(junk ?? string.Empty);
        var mangled = Path(path).Replace(Subject, Subject + escaped, StringComparison.Ordinal).Replace("/1", "/" + escaped, StringComparison.Ordinal);
        await RegistryFuzzClient.SendAsync(Client, method, mangled + (mangled.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "deleted=" + escaped, (byte[]?)null);
    }

    [Fact]
    public async Task Invalid_utf8_and_lone_surrogates_in_every_field_get_a_4xx()
    {
        string[] templates =
        [
            """{"schema":"<>"}""",
            """{"schema":"{\"type\":\"string\",\"doc\":\"<>\"}"}""",
            """{"schemaType":"JSON","schema":"{\"type\":\"object\",\"properties\":{\"<>\":{\"type\":\"string\",\"pattern\":\"<>\"}}}"}""",
            """{"schemaType":"PROTOBUF","schema":"syntax = \"proto3\"; message M { string <> = 1; }"}""",
            """{"schemaType":"<>","schema":"\"string\""}""",
            """{"schema":"\"string\"","references":[{"name":"<>","subject":"<>","version":1}]}""",
            """{"schema":"\"string\"","metadata":{"properties":{"<>":"<>"}},"ruleSet":{"domainRules":[{"name":"<>"}]}}""",
            """{"compatibility":"<>","normalize":true}""",
            """{"compatibilityLevel":"<>"}""",
            """{"mode":"<>"}""",
        ];
        foreach (var template in templates)
        {
            foreach (var bad in BadStrings)
            {
                var body = Splice(template, bad);
                foreach (var (method, path) in BodyRoutes)
                {
                    await RegistryFuzzClient.SendAsync(Client, method, Path(path), body);
                }
            }
        }

        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task Huge_numbers_wrong_kinds_and_deep_structures_get_a_4xx()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        string[] bodies =
        [
            """{"schema":"\"string\"","version":1e999,"id":99999999999999999999999}""",
            """{"schema":"\"string\"","references":[{"name":"a","subject":"b","version":1e999}]}""",
            """{"schema":"\"string\"","references":[{"name":"a","subject":"b","version":-99999999999}]}""",
            """{"schema":12}""", """{"schema":null}""", """{"schema":["x"]}""", """[]""", """null""", """ "x" """, "{", "",
            """{"schemaType":"JSON","schema":"{\"type\":\"number\",\"minimum\":1e999,\"multipleOf\":1e-999}"}""",
            """{"schemaType":"JSON","schema":"{\"type\":\"integer\",\"maximum\":-1e999,\"maxLength\":99999999999999999999}"}""",
            """{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":99999999999999}"}""",
            """{"schema":"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":1e999,\"scale\":-1}"}""",
            """{"compatibility":1e999}""", """{"mode":["READONLY"]}""",
            "{\"schema\":\"\\\"string\\\"\",\"metadata\":" + deep + "}",
            "{\"schema\":" + JsonSerializer.Serialize(deep) + "}",
            "{\"schemaType\":\"JSON\",\"schema\":" + JsonSerializer.Serialize(deep) + "}",
            "{\"schema\":\"" + new string('x', 3_000_000) + "\"}",
        ];
        foreach (var body in bodies)
        {
            foreach (var (method, path) in BodyRoutes)
            {
                await RegistryFuzzClient.SendAsync(Client, method, Path(path), body);
            }
        }

        // Global routes with bodies no mutation could make valid.
        foreach (var body in bodies)
        {
            await RegistryFuzzClient.SendAsync(Client, HttpMethod.Put, "/config", body);
            await RegistryFuzzClient.SendAsync(Client, HttpMethod.Put, "/mode", body);
        }

        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task Hostile_schemas_of_all_three_types_get_42201_on_register_and_compatibility()
    {
        var subject = $"{Subject}-hostile";
        Assert.Equal(200, await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/subjects/{subject}/versions", ValidBodies[1]));
        var hostile = new (string Type, string Schema)[]
        {
            ("JSON", HostileSchemas.JsonRefChain(40_000)),
            ("JSON", string.Concat(Enumerable.Repeat("{\"items\":", 5_000)) + "{}" + new string('}', 5_000)),
            ("PROTOBUF", HostileSchemas.ProtoNested(20_000)),
            ("PROTOBUF", HostileSchemas.ProtoDescriptorNested(20_000)),
            ("PROTOBUF", new string('{', 100_000)),
            ("AVRO", HostileSchemas.AvroNestedArrays(20_000)),
        };
        foreach (var (type, schema) in hostile)
        {
            var body = JsonSerializer.Serialize(new { schemaType = type, schema });
            foreach (var path in new[] { $"/subjects/{subject}/versions", $"/compatibility/subjects/{subject}/versions/latest", $"/subjects/{subject}" })
            {
                var status = await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, path, body);
                Assert.True(status is 422 or 404, $"{type} hostile schema on {path}: {status}");
            }
        }

        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task A_fanned_out_json_schema_registers_and_compares_with_itself_in_time()
    {
        var subject = $"{Subject}-fanout";
        var body = JsonSerializer.Serialize(new { schemaType = "JSON", schema = HostileSchemas.JsonFanOut(40) });

        var first = await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/subjects/{subject}/versions", body);
        var again = await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/compatibility/subjects/{subject}/versions/latest", body);

        Assert.Equal(200, first);
        Assert.True(again is 200 or 422, $"compatibility answered {again}");
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413_in_confluents_format()
    {
        var body = JsonSerializer.Serialize(new { schemaType = "JSON", schema = HostileSchemas.JsonRefChain(100_000) });

        // With Expect: 100-continue the client waits for the verdict instead of writing 5 MB into a closed connection.
        Assert.Equal(413, await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/subjects/{Subject}/versions", Encoding.UTF8.GetBytes(body), expectContinue: true));
        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task A_valid_schema_too_large_for_the_store_gets_a_4xx()
    {
        // Valid, under the request limit, but a record larger than Kafka takes (1 MB by default).
        var schema = JsonSerializer.Serialize(new { type = "string", description = new string('d', 3_000_000) });
        var body = JsonSerializer.Serialize(new { schemaType = "JSON", schema });

        var status = await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/subjects/{Subject}-large/versions", body);

        Assert.Equal(413, status);
        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task Oversized_request_lines_headers_and_odd_paths_get_a_4xx()
    {
        await RegistryFuzzClient.SendAsync(Client, HttpMethod.Get, "/subjects/" + new string('s', 20_000) + "/versions", (byte[]?)null);
        foreach (var segment in new[] { "%FF", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "%EF%BF%BF", "..%2F..%2F", "%2e%2e", "a%2Fb", "%20", "~", "%25" })
        {
            foreach (var (method, path) in BodilessRoutes)
            {
                await RegistryFuzzClient.SendAsync(Client, method, Path(path).Replace(Subject, Subject + segment, StringComparison.Ordinal).Replace("/1", "/" + segment, StringComparison.Ordinal), (byte[]?)null);
            }

            foreach (var (method, path) in BodyRoutes)
            {
                await RegistryFuzzClient.SendAsync(Client, method, Path(path).Replace(Subject, Subject + segment, StringComparison.Ordinal), ValidBodies[0]);
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "subjects");
        request.Headers.TryAddWithoutValidation("X-Huge", new string('h', 100_000));
        using var response = await Client.SendAsync(request);
        Assert.InRange((int)response.StatusCode, 400, 499);
        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_gets_413_in_confluents_format()
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { schema = new string('x', 5_000_000) }));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"subjects/{Subject}/versions");
        request.Headers.ExpectContinue = true;
        // A stream of unknown length goes out chunked: the limit applies as it is read.
        request.Content = new StreamContent(new UnknownLengthStream(body));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        using var timeout = new CancellationTokenSource(RegistryFuzzClient.TimeLimit);
        try
        {
            using var response = await Client.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            Assert.Equal(413, (int)response.StatusCode);
            Assert.Contains("\"error_code\":413", text, StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            // The server may answer and close while the client is still sending: that is not a complete
            // request, so only the registry's health afterwards is asserted.
        }

        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_before_the_body_is_sent()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(fixture.Registry.BaseAddress.Host, fixture.Registry.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST /subjects/{Subject}/versions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        using var timeout = new CancellationTokenSource(RegistryFuzzClient.TimeLimit);
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        var answer = Encoding.UTF8.GetString(buffer, 0, read);

        Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
        Assert.Contains("\"error_code\":413", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_and_mislabelled_bodies_get_a_4xx()
    {
        foreach (var valid in ValidBodies)
        {
            var bytes = Encoding.UTF8.GetBytes(valid);
            for (var cut = 0; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 7))
            {
                foreach (var contentType in ContentTypes)
                {
                    await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/subjects/{Subject}/versions", bytes[..cut], contentType);
                }
            }

            // UTF-16 text where UTF-8 is expected.
            await RegistryFuzzClient.SendAsync(Client, HttpMethod.Post, $"/compatibility/subjects/{Subject}/versions", Encoding.Unicode.GetBytes(valid));
        }

        await RegistryFuzzClient.AssertHealthyAsync(Client);
    }

    // Each request gets its own subject where the route would otherwise pile up state.
    private static string Path(string template) => template.Replace("{0}", Guid.NewGuid().ToString("N")[..8], StringComparison.Ordinal);

    private static byte[] Splice(string template, byte[] bad)
    {
        var parts = template.Split("<>");
        var output = new List<byte>();
        for (var i = 0; i < parts.Length; i++)
        {
            output.AddRange(Encoding.UTF8.GetBytes(parts[i]));
            if (i < parts.Length - 1)
            {
                output.AddRange(bad);
            }
        }

        return output.ToArray();
    }

    /// <summary>A readable stream that does not tell its length, so the client sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
