using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Auth;
using EventPlatform.Hosting.Auth;
using EventPlatform.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Gateway.Tests;

/// <summary>A valid event as a client would send it, and the topic and partition count it belongs to.</summary>
public sealed record ValidEvent(JsonObject Body, string PathTopic, string Topic, int Partitions)
{
    public override string ToString() => Body.ToJsonString();
}

/// <summary>The ways a request can fail to carry a valid token.</summary>
public enum BadTokenKind
{
    Missing,
    Garbage,
    WrongSecret,
    Expired,
    AlgorithmNone,
    WrongAlgorithm,
    TamperedPayload,
    NoExpiry,
    NotYetValid,
    NotBearerScheme,
    EmptyBearer,
    NoSubject,
    EmptySubject,
}

public static class GatewayArbitraries
{
    private static readonly (string Type, string Path, string Topic, int Partitions)[] Types =
    [
        ("iot.sensor", "iot.sensors", "events.iot.sensors", 12),
        ("clickstream", "clickstream", "events.clickstream", 24),
        ("transaction", "events.transactions", "events.transactions", 12),
    ];

    private static Gen<string> Token(int maxLength) =>
        Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:é中".ToCharArray())
            .NonEmptyListOf().Select(cs => new string([.. cs.Take(maxLength)]));

    public static Arbitrary<ValidEvent> ValidEvent() => Arb.From(
        from type in Gen.Elements(Types)
        from id in Token(60)
        from user in Gen.OneOf(Gen.Constant<string?>(null), Token(30).Select(s => (string?)s))
        from device in Gen.OneOf(Gen.Constant<string?>(null), Token(30).Select(s => (string?)s))
        // Up to late 2023: the gateway refuses event times more than an hour ahead of its clock.
        from seconds in Gen.Choose(0, 1_700_000_000)
        from epochTimestamp in ArbMap.Default.GeneratorFor<bool>()
        from value in ArbMap.Default.GeneratorFor<NormalFloat>()
        from label in Token(20)
        from withMetadata in ArbMap.Default.GeneratorFor<bool>()
        select new ValidEvent(
            new JsonObject
            {
                ["event_id"] = "evt_" + id + "_" + Guid.NewGuid().ToString("N")[..8],
                ["timestamp"] = epochTimestamp ? seconds : DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["event_type"] = type.Type,
                ["user_id"] = user,
                ["device_id"] = device,
                ["payload"] = new JsonObject { ["value"] = value.Get, ["label"] = label, ["nested"] = new JsonArray(1, "two", null) },
                ["metadata"] = withMetadata ? new JsonObject { ["source"] = "fscheck" } : null,
            },
            type.Path,
            type.Topic,
            type.Partitions));

    public static Arbitrary<BadTokenKind> BadTokenKind() => Arb.From(Gen.Elements(Enum.GetValues<BadTokenKind>()));

    public static Arbitrary<NonEmptyString> Keys() => Arb.From(Token(40).Select(s => NonEmptyString.NewNonEmptyString(s)));
}

[Collection(GatewayCollection.Name)]
public sealed class GatewayProperties(GatewayFixture gateway)
{
    // Feature: kafka-event-streaming-platform, Property 11: API response completeness
    // For any successful POST request to the events endpoint, the response should contain the
    // event_id, topic name, partition number, and offset - and Kafka holds that event there.
    [Property(MaxTest = 100, Arbitrary = [typeof(GatewayArbitraries)])]
    public async Task Property_11_every_accepted_event_is_where_the_response_says(ValidEvent e)
    {
        var response = await gateway.Client.PostAsync($"api/v1/events/{e.PathTopic}", TestEvents.Json(e.Body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();

        Assert.Equal("accepted", (string?)body["status"]);
        Assert.Equal((string?)e.Body["event_id"], (string?)body["event_id"]);
        Assert.Equal(e.Topic, (string?)body["topic"]);
        var partition = (int)body["partition"]!;
        var offset = (long)body["offset"]!;
        Assert.InRange(partition, 0, e.Partitions - 1);
        Assert.True(offset >= 0);
        Assert.True(DateTimeOffset.TryParse((string?)body["timestamp"], System.Globalization.CultureInfo.InvariantCulture, out _));

        var key = (string?)e.Body["user_id"] ?? (string?)e.Body["device_id"];
        if (key is not null)
        {
            Assert.Equal(KafkaMurmur2.Partition(Encoding.UTF8.GetBytes(key), e.Partitions), partition);
        }

        var stored = Responses.ParseRecord(gateway.RecordAt(e.Topic, partition, offset));
        Assert.Equal((string?)e.Body["event_id"], (string?)stored["event_id"]);
        Assert.Equal(e.Body["payload"]!.ToJsonString(), stored["payload"]!.ToJsonString());
    }

    // Feature: kafka-event-streaming-platform, Property 4: Partition key consistency
    // For any two events with the same partition key (user_id or device_id), both events should
    // be routed to the same Kafka partition (and the one a Java producer would pick).
    [Property(MaxTest = 100, Arbitrary = [typeof(GatewayArbitraries)])]
    public async Task Property_4_events_with_the_same_key_share_a_partition(NonEmptyString key, bool keyIsUser)
    {
        var first = TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N"), deviceId: keyIsUser ? "other-device" : key.Get, userId: keyIsUser ? key.Get : null);
        var second = TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N"), deviceId: keyIsUser ? "another-device" : key.Get, userId: keyIsUser ? key.Get : null);

        var a = await (await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(first))).JsonAsync();
        var b = await (await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(second))).JsonAsync();

        Assert.Equal((int)a["partition"]!, (int)b["partition"]!);
        Assert.Equal(KafkaMurmur2.Partition(Encoding.UTF8.GetBytes(key.Get), 12), (int)a["partition"]!);
    }

    // Feature: kafka-event-streaming-platform, Property 20: JWT authentication enforcement
    // For any request to the FastAPI Service without a valid JWT token, the request should be
    // rejected with a 401 Unauthorized status - and nothing it carried is written to Kafka.
    [Property(MaxTest = 100, Arbitrary = [typeof(GatewayArbitraries)])]
    public async Task Property_20_requests_without_a_valid_token_are_401_and_write_nothing(BadTokenKind kind, NonEmptyString garbage)
    {
        const string Key = "property-20-key";
        var partition = KafkaMurmur2.Partition(Encoding.UTF8.GetBytes(Key), 12);
        var before = HighWatermark("events.iot.sensors", partition);

        using var client = new HttpClient { BaseAddress = gateway.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/events/iot.sensors")
        {
            Content = TestEvents.Json(TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N"), userId: Key)),
        };
        ApplyBadToken(request, kind, garbage.Get);
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Contains((string?)body["error_code"], new[] { "AUTHENTICATION_REQUIRED", "INVALID_TOKEN", "TOKEN_EXPIRED" });
        Responses.AssertIsErrorResponse(body, (string)body["error_code"]!);

        // Nothing written: a good request on the same key after it lands exactly where the refused
        // one would have been, and is the only new record (a stray write would be before it).
        var marker = await (await gateway.Server.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N"), userId: Key)))).JsonAsync();
        Assert.Equal((partition, before), ((int)marker["partition"]!, (long)marker["offset"]!));
        Assert.Equal(before + 1, HighWatermark("events.iot.sensors", partition));
    }

    [Fact]
    public async Task A_valid_token_is_accepted_and_an_expired_one_says_so()
    {
        using var client = new HttpClient { BaseAddress = gateway.Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            JwtTokenIssuer.Create(GatewayServer.Jwt, "old", TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(-1)));
        var expired = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("e")));

        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal("TOKEN_EXPIRED", (string?)(await expired.JsonAsync())["error_code"]);
        Assert.Contains("invalid_token", expired.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token());
        var ok = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N"))));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Theory]
    [InlineData("POST", "api/v1/events/iot.sensors")]
    [InlineData("POST", "api/v1/events/iot.sensors/batch")]
    [InlineData("GET", "api/v1/events/iot.sensors/latest")]
    [InlineData("GET", "api/v1/stream/iot.sensors")]
    [InlineData("GET", "api/v1/ingest/iot.sensors")]
    public async Task A_token_without_a_subject_is_401_on_every_authenticated_route(string method, string path)
    {
        using var client = new HttpClient { BaseAddress = gateway.Server.BaseAddress };
        foreach (var subject in new string?[] { null, "" })
        {
            var token = WithoutSubject(DateTimeOffset.UtcNow, subject);

            // Twice each: the second request must not be answered from the validated-token cache.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method == "POST")
                {
                    request.Content = path.EndsWith("/batch", StringComparison.Ordinal)
                        ? TestEvents.Json(new JsonArray(TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N"))))
                        : TestEvents.Json(TestEvents.Iot("evt_" + Guid.NewGuid().ToString("N")));
                }

                Bearer(request, token);
                var response = await client.SendAsync(request);

                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                var body = await response.JsonAsync();
                Assert.Equal("INVALID_TOKEN", (string?)body["error_code"]);
                Assert.Contains("no subject (sub)", (string?)body["message"], StringComparison.Ordinal);
            }
        }
    }

    private long HighWatermark(string topic, int partition)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = gateway.BootstrapServers, GroupId = "watermarks" }).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(10)).High.Value;
    }

    private static void ApplyBadToken(HttpRequestMessage request, BadTokenKind kind, string anyText)
    {
        var now = DateTimeOffset.UtcNow;
        var garbage = new string([.. anyText.Where(c => c is > ' ' and < '\x7f')]) is { Length: > 0 } ascii ? ascii : "x";
        switch (kind)
        {
            case BadTokenKind.Missing:
                return;
            case BadTokenKind.Garbage:
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + garbage);
                return;
            case BadTokenKind.WrongSecret:
                Bearer(request, JwtTokenIssuer.Create(new JwtOptions { SecretKey = "another-secret-another-secret-another-secret-0000", Algorithm = "HS256" }, "mallory", TimeSpan.FromHours(1), now));
                return;
            case BadTokenKind.Expired:
                Bearer(request, JwtTokenIssuer.Create(GatewayServer.Jwt, "late", TimeSpan.FromMinutes(5), now.AddHours(-2)));
                return;
            case BadTokenKind.AlgorithmNone:
                Bearer(request, Unsigned(now));
                return;
            case BadTokenKind.WrongAlgorithm:
                Bearer(request, JwtTokenIssuer.Create(new JwtOptions { SecretKey = GatewayServer.Secret, Algorithm = "HS384" }, "alg", TimeSpan.FromHours(1), now));
                return;
            case BadTokenKind.TamperedPayload:
                Bearer(request, Tamper(GatewayServer.Token("honest")));
                return;
            case BadTokenKind.NoExpiry:
                Bearer(request, WithoutExpiry());
                return;
            case BadTokenKind.NotYetValid:
                Bearer(request, JwtTokenIssuer.Create(GatewayServer.Jwt, "early", TimeSpan.FromHours(1), now.AddHours(1)));
                return;
            case BadTokenKind.NotBearerScheme:
                request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + garbage)));
                return;
            case BadTokenKind.EmptyBearer:
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer ");
                return;
            case BadTokenKind.NoSubject:
                Bearer(request, WithoutSubject(now, subject: null));
                return;
            case BadTokenKind.EmptySubject:
                Bearer(request, WithoutSubject(now, subject: ""));
                return;
        }
    }

    private static void Bearer(HttpRequestMessage request, string token) =>
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

    private static string Unsigned(DateTimeOffset now)
    {
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var payload = $$"""{"sub":"nobody","exp":{{now.AddHours(1).ToUnixTimeSeconds()}},"iat":{{now.ToUnixTimeSeconds()}}}""";
        return B64("""{"alg":"none","typ":"JWT"}""") + "." + B64(payload) + ".";
    }

    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload["sub"] = "admin";
        return parts[0] + "." + Base64UrlEncoder.Encode(payload.ToJsonString()) + "." + parts[2];
    }

    /// <summary>Signed with the gateway's secret, with an expiry and a scope: valid in every way but the subject.</summary>
    internal static string WithoutSubject(DateTimeOffset now, string? subject) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = subject is null
                ? new Dictionary<string, object> { ["scope"] = "events:write" }
                : new Dictionary<string, object> { ["scope"] = "events:write", ["sub"] = subject },
            IssuedAt = now.UtcDateTime,
            Expires = now.AddHours(1).UtcDateTime,
            SigningCredentials = new SigningCredentials(JwtTokenIssuer.SigningKey(GatewayServer.Jwt), SecurityAlgorithms.HmacSha256),
        });

    private static string WithoutExpiry() =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "forever")]),
            SigningCredentials = new SigningCredentials(JwtTokenIssuer.SigningKey(GatewayServer.Jwt), SecurityAlgorithms.HmacSha256),
        });
}
