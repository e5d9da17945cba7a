using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Hosting.Auth;
using EventPlatform.SchemaRegistry.Security;
using EventPlatform.Testing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static EventPlatform.SchemaRegistry.Tests.Registry.Rest;
using RecordSchema = global::Avro.RecordSchema;
using ConfluentCompatibility = Confluent.SchemaRegistry.Compatibility;
using Schema = Confluent.SchemaRegistry.Schema;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>
/// The secured registry as Confluent's clients meet it: HTTP Basic users and platform JWTs, the
/// rights schemas:read, schemas:write and schemas:admin, 401 and 403 with Confluent's bodies.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class AuthTests(RegistryFixture fixture)
{
    private const string Writer = RegistryServer.WriterUser + ":" + RegistryServer.WriterPassword;
    private const string Reader = RegistryServer.ReaderUser + ":" + RegistryServer.ReaderPassword;

    [Fact]
    public async Task Confluent_client_and_AvroSerializer_with_BasicAuthUserInfo_register_and_serialize()
    {
        using var client = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig(Writer));
        var topic = "auth-serde-" + Guid.NewGuid().ToString("N");
        var schema = (RecordSchema)global::Avro.Schema.Parse(TestSchemas.V1);
        var record = new GenericRecord(schema);
        record.Add("event_id", "evt_1");
        record.Add("timestamp", 42L);

        var serializer = new AvroSerializer<GenericRecord>(client, new AvroSerializerConfig { AutoRegisterSchemas = true });
        var bytes = await serializer.SerializeAsync(record, new SerializationContext(MessageComponentType.Value, topic));
        Assert.Equal(0, bytes[0]);

        // Reading needs no credentials by default.
        using var anonymous = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig(userInfo: null));
        var back = await new AvroDeserializer<GenericRecord>(anonymous).DeserializeAsync(bytes, isNull: false, new SerializationContext(MessageComponentType.Value, topic));
        Assert.Equal("evt_1", back["event_id"]);
        Assert.Equal(1, (await anonymous.GetLatestSchemaAsync(topic + "-value")).Version);
    }

    [Fact]
    public async Task A_client_without_credentials_reads_but_gets_401_on_register()
    {
        var subject = RegistryFixture.NewSubject("anon");
        using var admin = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig());
        await admin.RegisterSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro));

        using var anonymous = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig(userInfo: null));
        Assert.Contains(subject, await anonymous.GetAllSubjectsAsync());
        Assert.True(await anonymous.IsCompatibleAsync(subject, new Schema(TestSchemas.V2, SchemaType.Avro)));
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => anonymous.RegisterSchemaAsync(subject, new Schema(TestSchemas.V2, SchemaType.Avro)));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal(401, refused.ErrorCode);

        using var raw = fixture.Registry.NewClient();
        using var response = await raw.PostAsync($"subjects/{subject}/versions", new StringContent($$"""{"schema":{{System.Text.Json.JsonSerializer.Serialize(TestSchemas.V2)}}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenges = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToList();
        Assert.Contains("Basic", challenges);
        Assert.Contains("Bearer", challenges);
        Assert.Contains("realm=\"SchemaRegistry\"", response.Headers.WwwAuthenticate.First(h => h.Scheme == "Basic").Parameter, StringComparison.Ordinal);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(401, body["error_code"]!.GetValue<int>());
        Assert.Contains("register a schema", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, (await anonymous.GetLatestSchemaAsync(subject)).Version);
    }

    [Fact]
    public async Task A_reader_gets_403_on_register()
    {
        var subject = RegistryFixture.NewSubject("reader");
        using var reader = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig(Reader));
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => reader.RegisterSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro)));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal(RegistrySecurity.ForbiddenErrorCode, refused.ErrorCode);
        Assert.Contains("register a schema", refused.Message, StringComparison.Ordinal);
        Assert.Contains(subject, refused.Message, StringComparison.Ordinal);
        Assert.Contains("schemas:write", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(await reader.GetAllSubjectsAsync());
    }

    [Fact]
    public async Task A_writer_gets_403_on_config_mode_and_permanent_delete_and_an_admin_may_do_them()
    {
        var subject = RegistryFixture.NewSubject("writer");
        using var writer = fixture.Registry.NewClient(RegistryServer.WriterUser, RegistryServer.WriterPassword);
        var admin = fixture.Registry.Client;
        Assert.Equal(200, (await PostAsync(writer, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1))).Status);
        Assert.Equal(200, (await PostAsync(writer, $"subjects/{subject}", AvroBody(TestSchemas.V1))).Status);
        Assert.Equal(200, (await PostAsync(writer, $"compatibility/subjects/{subject}/versions/latest", AvroBody(TestSchemas.V2))).Status);

        foreach (var (method, path, body, operation) in new (HttpMethod, string, object?, string)[]
        {
            (HttpMethod.Put, "config", new { compatibility = "NONE" }, "change the global compatibility"),
            (HttpMethod.Put, $"config/{subject}", new { compatibility = "NONE" }, "change a subject's compatibility"),
            (HttpMethod.Delete, $"config/{subject}", null, "delete a subject's compatibility"),
            (HttpMethod.Put, "mode", new { mode = "IMPORT" }, "change the global mode"),
            (HttpMethod.Put, $"mode/{subject}", new { mode = "IMPORT" }, "change a subject's mode"),
            (HttpMethod.Delete, $"mode/{subject}", null, "delete a subject's mode"),
        })
        {
            var (status, answer) = await SendAsync(writer, method, path, body);
            Assert.True(status == 403, $"{method} {path}: {status}");
            Assert.Equal(40301, ErrorCode(answer));
            Assert.Contains(operation, answer!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Soft deletes are the writer's; the permanent delete that follows is the administrator's.
        Assert.Equal(200, (await DeleteAsync(writer, $"subjects/{subject}/versions/1")).Status);
        var (hardStatus, hard) = await DeleteAsync(writer, $"subjects/{subject}/versions/1?permanent=true");
        Assert.Equal(403, hardStatus);
        Assert.Contains("permanently delete a version", hard!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(403, (await DeleteAsync(writer, $"subjects/{subject}?permanent=TRUE")).Status);
        Assert.Equal(403, (await DeleteAsync(writer, $"subjects/{subject}?permanent=false&permanent=true")).Status);

        Assert.Equal(200, (await PutAsync(admin, $"config/{subject}", new { compatibility = "FULL" })).Status);
        Assert.Equal(200, (await PutAsync(admin, $"mode/{subject}", new { mode = "READWRITE" })).Status);
        Assert.Equal(200, (await DeleteAsync(admin, $"mode/{subject}")).Status);
        Assert.Equal(200, (await DeleteAsync(admin, $"config/{subject}")).Status);
        Assert.Equal(200, (await DeleteAsync(admin, $"subjects/{subject}/versions/1?permanent=true")).Status);
        Assert.Equal(404, (await GetAsync(admin, $"subjects/{subject}/versions/1?deleted=true")).Status);
    }

    [Theory]
    [InlineData("schemas:read", 200, 403, 403)]
    [InlineData("schemas:write", 200, 200, 403)]
    [InlineData("schemas:admin", 200, 200, 200)]
    [InlineData("events:write schemas:admin", 200, 200, 200)]
    [InlineData("events:write", 200, 403, 403)]
    public async Task Bearer_tokens_carry_their_scopes(string scope, int read, int register, int configure)
    {
        var subject = RegistryFixture.NewSubject("jwt");
        using var client = fixture.Registry.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("jwt-client", scope: scope));
        Assert.Equal(read, (await GetAsync(client, "subjects")).Status);
        var (status, body) = await PostAsync(client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        Assert.Equal(register, status);
        if (status == 403)
        {
            Assert.Contains("User 'jwt-client'", body!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(configure, (await PutAsync(client, $"config/{subject}", new { compatibility = "FULL" })).Status);
    }

    [Fact]
    public async Task Confluent_client_with_a_static_bearer_token_registers_with_schemas_write()
    {
        var config = fixture.Registry.ClientConfig(userInfo: null);
        config.BearerAuthCredentialsSource = BearerAuthCredentialsSource.StaticToken;
        config.BearerAuthToken = GatewayServer.Token("bearer-client", scope: "schemas:write");
        // Confluent Cloud's routing headers, which the client insists on; this registry ignores them.
        config.BearerAuthLogicalCluster = "lsrc-local";
        config.BearerAuthIdentityPoolId = "pool-local";
        using var client = new CachedSchemaRegistryClient(config);
        var subject = RegistryFixture.NewSubject("bearer");
        Assert.True(await client.RegisterSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro)) > 0);
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.UpdateCompatibilityAsync(ConfluentCompatibility.None, subject));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
    }

    [Fact]
    public async Task A_password_may_hold_colons()
    {
        await using var registry = await RegistryServer.StartAsync(fixture.Kafka.Cluster, "_schemas-colon-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string?>
        {
            ["Registry:Auth:Users:colon:Password"] = "pass:word:with:colons",
            ["Registry:Auth:Users:colon:Scopes"] = "schemas:write",
        });
        using var raw = registry.NewClient("colon", "pass:word:with:colons");
        Assert.Equal(200, (await PostAsync(raw, $"subjects/{RegistryFixture.NewSubject("colon")}/versions", AvroBody(TestSchemas.V1))).Status);
        using var client = new CachedSchemaRegistryClient(registry.ClientConfig("colon:pass:word:with:colons"));
        Assert.True(await client.RegisterSchemaAsync(RegistryFixture.NewSubject("colon"), new Schema(TestSchemas.V1, SchemaType.Avro)) > 0);
    }

    [Fact]
    public async Task Bad_tokens_are_401()
    {
        var expired = JwtTokenIssuer.Create(GatewayServer.Jwt, "late", TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow.AddHours(-2), Scope("schemas:admin"));
        var otherSecret = JwtTokenIssuer.Create(new JwtOptions { SecretKey = "another-secret-another-secret-another-secret-0000", Algorithm = "HS256" }, "mallory", TimeSpan.FromHours(1), DateTimeOffset.UtcNow, Scope("schemas:admin"));
        var otherAlgorithm = JwtTokenIssuer.Create(new JwtOptions { SecretKey = GatewayServer.Secret, Algorithm = "HS384" }, "alg", TimeSpan.FromHours(1), DateTimeOffset.UtcNow, Scope("schemas:admin"));
        foreach (var token in new[] { expired, otherSecret, otherAlgorithm, "not.a.jwt", "x", new string('a', 5000), expired + "x" })
        {
            using var client = fixture.Registry.NewClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var (status, body) = await GetAsync(client, "subjects");
            Assert.True(status == 401, $"token '{token[..Math.Min(20, token.Length)]}...': {status}");
            Assert.Equal(401, ErrorCode(body));
        }
    }

    [Fact]
    public async Task Bad_and_malformed_Basic_credentials_are_401_never_5xx()
    {
        var random = new Random(8);
        var headers = new List<string>
        {
            "Basic " + B64(RegistryServer.AdminUser + ":wrong-password"),
            "Basic " + B64("nobody:" + RegistryServer.AdminPassword),
            "Basic " + B64(RegistryServer.AdminUser + ":"),
            "Basic " + B64(":" + RegistryServer.AdminPassword),
            "Basic " + B64("no-colon-at-all"),
            "Basic !!!not-base64!!!",
            "Basic ====",
            "Basic",
            "Basic ",
            "basic " + B64("nobody:x"),
            "Digest username=\"admin\"",
            "Bearer",
            RegistryServer.AdminUserInfo,
            "Basic " + new string('A', 20_000),
            "Basic " + B64(RegistryServer.AdminUser + ":" + new string('p', 6000)),
        };
        for (var i = 0; i < 40; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            headers.Add("Basic " + Convert.ToBase64String(bytes));
            headers.Add("Basic " + new string(Enumerable.Range(0, random.Next(1, 100)).Select(_ => (char)random.Next(0x21, 0x7f)).ToArray()));
        }

        foreach (var header in headers)
        {
            using var client = fixture.Registry.NewClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"subjects/{RegistryFixture.NewSubject("bad")}/versions")
            {
                Content = new StringContent("""{"schema":"\"string\""}""", Encoding.UTF8, "application/json"),
            };
            Assert.True(request.Headers.TryAddWithoutValidation("Authorization", header));
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"'{header[..Math.Min(40, header.Length)]}': {(int)response.StatusCode}");
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
            var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(401, body["error_code"]!.GetValue<int>());
        }

        // Two Authorization headers are one too many.
        using (var client = fixture.Registry.NewClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "subjects");
            request.Headers.TryAddWithoutValidation("Authorization", ["Basic " + B64(RegistryServer.AdminUserInfo), "Basic " + B64(Reader)]);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Raw_bytes_and_oversized_Authorization_headers_get_4xx_and_the_registry_keeps_serving()
    {
        var random = new Random(3);
        for (var i = 0; i < 10; i++)
        {
            var value = new byte[random.Next(1, 300)];
            random.NextBytes(value);
            for (var j = 0; j < value.Length; j++)
            {
                // CR and LF would end the header: everything else, including bytes over 0x7f, stays.
                value[j] = value[j] is (byte)'\r' or (byte)'\n' ? (byte)'x' : value[j];
            }

            var status = await RawRequestStatusAsync([.. "GET /subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "u8, .. value, .. "\r\nConnection: close\r\n\r\n"u8]);
            Assert.InRange(status, 400, 499);
        }

        var huge = await RawRequestStatusAsync(Encoding.ASCII.GetBytes("GET /subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + new string('A', 64 * 1024) + "\r\nConnection: close\r\n\r\n"));
        Assert.InRange(huge, 400, 499);

        Assert.Equal(200, (await GetAsync(fixture.Registry.Client, "subjects")).Status);
    }

    [Fact]
    public async Task Metrics_are_public_and_anonymous_reads_can_be_turned_off()
    {
        await using var closed = await RegistryServer.StartAsync(fixture.Kafka.Cluster, "_schemas-closed-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string?>
        {
            ["Registry:Auth:AnonymousRead"] = "false",
        });
        using var anonymous = closed.NewClient();
        using var metrics = await anonymous.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);

        Assert.Equal(200, (await GetAsync(anonymous, "")).Status); // the root, a liveness check
        var (status, body) = await GetAsync(anonymous, "subjects");
        Assert.Equal(401, status);
        Assert.Equal(401, ErrorCode(body));
        Assert.Equal(401, (await GetAsync(anonymous, "schemas/ids/1")).Status);
        Assert.Equal(401, (await PostAsync(anonymous, "compatibility/subjects/x/versions", AvroBody(TestSchemas.V1))).Status);

        using var reader = closed.NewClient(RegistryServer.ReaderUser, RegistryServer.ReaderPassword);
        Assert.Equal(200, (await GetAsync(reader, "subjects")).Status);

        // A token without registry scopes is a credential with no right here: 403, not 401.
        using var tokenWithoutScopes = closed.NewClient();
        tokenWithoutScopes.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("events-only", scope: "events:write"));
        Assert.Equal(403, (await GetAsync(tokenWithoutScopes, "subjects")).Status);

        using var openMetrics = await fixture.Registry.NewClient().GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, openMetrics.StatusCode);
    }

    [Fact]
    public async Task Users_come_from_hashes_and_a_users_file()
    {
        var file = Path.Combine(Path.GetTempPath(), "registry-users-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllLinesAsync(file,
        [
            "# name: secret, scopes",
            "filer: file-password, schemas:write",
            $"hashed-in-file: {PasswordHash.Create("hashed-file-password", 10_000)}, schemas:read schemas:admin",
        ]);
        try
        {
            await using var registry = await RegistryServer.StartAsync(fixture.Kafka.Cluster, "_schemas-users-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string?>
            {
                ["Registry:Auth:UsersFile"] = file,
                ["Registry:Auth:Users:hashed:PasswordHash"] = PasswordHash.Create("hashed-password", 10_000),
                ["Registry:Auth:Users:hashed:Scopes"] = "schemas:write",
            });

            var subject = RegistryFixture.NewSubject("users");
            foreach (var (user, password, expected) in new[]
            {
                ("hashed", "hashed-password", 200), ("hashed", "hashed-password", 200), ("hashed", "wrong", 401),
                ("filer", "file-password", 200), ("filer", "wrong", 401), ("hashed-in-file", "hashed-file-password", 200),
            })
            {
                using var client = registry.NewClient(user, password);
                Assert.Equal(expected, (await PostAsync(client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1))).Status);
            }

            using var fileAdmin = registry.NewClient("hashed-in-file", "hashed-file-password");
            Assert.Equal(200, (await PutAsync(fileAdmin, $"config/{subject}", new { compatibility = "NONE" })).Status);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_registry_with_no_way_to_authenticate_refuses_to_start_and_auth_is_off_only_when_asked()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Registry:Urls"] = "http://127.0.0.1:0",
            ["Registry:Topic"] = "_schemas-none-" + Guid.NewGuid().ToString("N"),
            ["Kafka:BootstrapServers"] = fixture.Kafka.Cluster.BootstrapServers,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        await using (var locked = RegistryApp.Create([], settings))
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => locked.StartAsync());
            Assert.Contains("Registry:Auth:Enabled=false", error.Message, StringComparison.Ordinal);
        }

        settings["Registry:Auth:Users:bad:Password"] = "pw";
        settings["Registry:Auth:Users:bad:Scopes"] = "schemas:everything";
        await using (var misconfigured = RegistryApp.Create([], settings))
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => misconfigured.StartAsync());
            Assert.Contains("schemas:everything", error.Message, StringComparison.Ordinal);
        }

        await using var open = await RegistryServer.StartAsync(fixture.Kafka.Cluster, "_schemas-open-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string?>
        {
            ["Registry:Auth:Enabled"] = "false",
        });
        using var anonymous = open.NewClient();
        Assert.Equal(200, (await PostAsync(anonymous, $"subjects/{RegistryFixture.NewSubject("open")}/versions", AvroBody(TestSchemas.V1))).Status);
        Assert.Equal(200, (await PutAsync(anonymous, "config", new { compatibility = "FULL" })).Status);
    }

    private static Dictionary<string, object> Scope(string scope) => new() { [JwtValidation.ScopeClaim] = scope };

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends bytes HttpClient would refuse to send; returns the answer's status code.</summary>
    private async Task<int> RawRequestStatusAsync(byte[] request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(fixture.Registry.BaseAddress.Host, fixture.Registry.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync() ?? "";
        var parts = statusLine.Split(' ');
        return parts.Length > 1 && int.TryParse(parts[1], out var status) ? status : -1;
    }
}

/// <summary>The route-to-scope table covers every route the registry maps.</summary>
[Collection(RegistryCollection.Name)]
public sealed class AccessRuleTests(RegistryFixture fixture)
{
    [Fact]
    public void Every_mapped_route_is_public_a_read_or_named_in_the_table()
    {
        var endpoints = fixture.Registry.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);
        var mapped = new HashSet<(string Method, string Route)>();
        foreach (var endpoint in endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null))
        {
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["(any)"])
            {
                if (method is not ("GET" or "HEAD"))
                {
                    mapped.Add((method, endpoint.RoutePattern.RawText ?? ""));
                }
            }
        }

        // A new route is closed (schemas:admin) until RegistryAccessRules gives it its right; an entry
        // for a route that is gone would be a stale promise.
        Assert.Equal(RegistryAccessRules.Named.OrderBy(r => r.Route).ThenBy(r => r.Method), mapped.OrderBy(r => r.Route).ThenBy(r => r.Method));
    }

    [Theory]
    [InlineData("GET", "/", "", RegistryScope.None)]
    [InlineData("GET", "/subjects/{subject}/versions", "", RegistryScope.Read)]
    [InlineData("POST", "/subjects/{subject}", "", RegistryScope.Read)]
    [InlineData("POST", "/compatibility/subjects/{subject}/versions/{version}", "", RegistryScope.Read)]
    [InlineData("POST", "/subjects/{subject}/versions", "", RegistryScope.Write)]
    [InlineData("DELETE", "/subjects/{subject}", "", RegistryScope.Write)]
    [InlineData("DELETE", "/subjects/{subject}", "?permanent=false", RegistryScope.Write)]
    [InlineData("DELETE", "/subjects/{subject}", "?permanent=true", RegistryScope.Admin)]
    [InlineData("DELETE", "/subjects/{subject}/versions/{version}", "?permanent=yes", RegistryScope.Admin)]
    [InlineData("PUT", "/config", "", RegistryScope.Admin)]
    [InlineData("DELETE", "/mode/{subject}", "", RegistryScope.Admin)]
    [InlineData("PATCH", "/subjects/{subject}", "", RegistryScope.Admin)]
    public void Routes_need_their_right(string method, string route, string query, RegistryScope expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(query.Length == 0 ? null : query);
        var endpoint = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(route), 0, EndpointMetadataCollection.Empty, route);
        Assert.Equal(expected, RegistryAccessRules.For(context, endpoint).Scope);
    }
}
