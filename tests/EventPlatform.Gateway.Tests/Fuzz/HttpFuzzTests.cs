using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests.Fuzz;

/// <summary>A request line of a fuzzed route: path, method, body.</summary>
public sealed record FuzzRequest(string Path, string Method, string Body);

/// <summary>A content type and what the body is: random bytes, empty, or a valid event.</summary>
public sealed record ContentTypeCase(string? ContentType, int BodyKind, byte[] Random);

/// <summary>A hostile query string (a record, so that FsCheck does not treat it as any string).</summary>
public sealed record QueryString(string Text)
{
    public override string ToString() => Text.Length > 200 ? Text[..200] + "..." : Text;
}

public static class FuzzArbitraries
{
    public static Arbitrary<Mutation> Mutation() => Arb.From(FuzzInputs.Mutations());

    public static Arbitrary<QueryString> Query() => Arb.From(FuzzInputs.QueryStrings().Select(q => new QueryString(q)));

    public static Arbitrary<FuzzRequest> Request() => Arb.From(
        from path in FuzzInputs.Paths()
        from method in Gen.Elements("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO")
        from body in Gen.Elements("", "{}", "[", "\u00ff")
        select new FuzzRequest(path, method, body));

    public static Arbitrary<ContentTypeCase> ContentType() => Arb.From(
        from type in Gen.Elements(FuzzInputs.ContentTypes)
        from kind in Gen.Choose(0, 2)
        from random in Gen.Choose(0, 255).Select(b => (byte)b).ListOf().Select(bs => bs.Take(300).ToArray())
        select new ContentTypeCase(type, kind, random));
}

/// <summary>
/// Hostile input on every HTTP route of the gateway, over real HTTP: each answer is a 4xx with an
/// ErrorResponse or a success, never a 5xx or a dropped connection, within
/// <see cref="FuzzFixture.AnswerBound"/>; Kafka holds exactly the events that were accepted; and
/// the gateway still serves afterwards.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(FuzzCollection.Name)]
public sealed class HttpFuzzTests(FuzzFixture fuzz)
{
    private const string Single = "api/v1/events/iot.sensors";
    private const string Batch = "api/v1/events/iot.sensors/batch";

    [Property(MaxTest = 300, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Mutated_single_events_are_refused_cleanly_and_only_accepted_ones_are_written(Mutation mutation)
    {
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        var answer = await fuzz.PostAsync(Single, mutation.Apply(fuzz.ValidEvent()), "application/json");
        Assert.Equal(before + (answer.Wrote ? 1 : 0), fuzz.RecordsIn(FuzzFixture.Topic));
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Mutated_batches_are_refused_cleanly_and_only_accepted_slots_are_written(Mutation mutation)
    {
        var before = fuzz.EndsOf(FuzzFixture.Topic);
        byte[] body = [(byte)'[', .. Encoding.UTF8.GetBytes(fuzz.ValidEvent().ToJsonString()), (byte)',', .. mutation.Apply(fuzz.ValidEvent()), (byte)']'];
        var answer = await fuzz.PostAsync(Batch, body, "application/json");

        // A slot accepted as an idempotent replay (an event_id seen before, e.g. a hostile text that
        // happens to be valid, used again by another case) says "replayed": true and wrote nothing:
        // its position is one the topic had before this request; every other accepted slot's is new.
        var written = 0;
        if (answer.Status is 200 or 207)
        {
            foreach (var slot in JsonNode.Parse(answer.Body)!["results"]!.AsArray())
            {
                if ((string?)slot!["status"] != "accepted")
                {
                    continue;
                }

                var replayed = slot["replayed"] is not null;
                Assert.Equal(!replayed, (long)slot["offset"]! >= before.Partitions[(int)slot["partition"]!]);
                written += replayed ? 0 : 1;
            }
        }

        Assert.Equal(before.Total + written, fuzz.RecordsIn(FuzzFixture.Topic));
    }

    [Fact]
    public async Task Hostile_text_in_every_field_is_400_INVALID_EVENT_naming_the_field()
    {
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        for (var place = 0; place < FuzzInputs.TextPlaces.Length; place++)
        {
            foreach (var text in FuzzInputs.HostileTexts.Take(14))
            {
                var answer = await fuzz.PostAsync(Single, FuzzInputs.WithText(fuzz.ValidEvent(), place, text), "application/json");
                Assert.Equal(400, answer.Status);
                Assert.Equal("INVALID_EVENT", answer.ErrorCode);
                var field = FuzzInputs.TextPlaces[place].Split('.')[0] switch
                {
                    "<top-level key>" => "(property name)",
                    var f => f,
                };
                Assert.True(JsonNode.Parse(answer.Body)!["details"]!["invalid_fields"]!.AsObject().ContainsKey(field), $"{field}: {Encoding.UTF8.GetString(answer.Body)}");
            }
        }

        Assert.Equal(before, fuzz.RecordsIn(FuzzFixture.Topic));
    }

    [Fact]
    public async Task Non_finite_numbers_anywhere_and_timestamps_Kafka_cannot_hold_are_400()
    {
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        for (var place = 0; place < FuzzInputs.NumberPlaces.Length; place++)
        {
            foreach (var number in FuzzInputs.NonFiniteNumbers)
            {
                var answer = await fuzz.PostAsync(Single, FuzzInputs.WithRaw(fuzz.ValidEvent(), place, number), "application/json");
                Assert.Equal("INVALID_EVENT", answer.ErrorCode);
            }
        }

        foreach (var timestamp in new[] { "-62135596801", "-1", "\"1969-12-31T23:59:59Z\"", "\"9999-12-31T23:59:59Z\"", "253402300799000", "1e999", "\"0001-01-01T00:00:00Z\"" })
        {
            var e = Encoding.UTF8.GetBytes(fuzz.ValidEvent().ToJsonString().Replace("\"2024-01-15T10:30:00Z\"", timestamp, StringComparison.Ordinal));
            var answer = await fuzz.PostAsync(Single, e, "application/json");
            Assert.Equal("INVALID_EVENT", answer.ErrorCode);
            Assert.NotNull(JsonNode.Parse(answer.Body)!["details"]!["invalid_fields"]!["timestamp"]);
        }

        Assert.Equal(before, fuzz.RecordsIn(FuzzFixture.Topic));
        await fuzz.AssertStillServingAsync();
    }

    [Fact]
    public async Task A_key_given_twice_in_any_object_of_an_event_is_400_and_nothing_is_written()
    {
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        for (var choice = 0; choice < 14; choice++)
        {
            var body = new Mutation(MutationKind.DuplicateKey, 0, choice, 0, []).Apply(fuzz.ValidEvent());
            Assert.Equal("INVALID_EVENT", (await fuzz.PostAsync(Single, body, "application/json")).ErrorCode);
        }

        Assert.Equal(before, fuzz.RecordsIn(FuzzFixture.Topic));
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Any_content_type_with_any_body_is_answered_cleanly(ContentTypeCase c)
    {
        var body = c.BodyKind switch
        {
            0 => c.Random,
            1 => [],
            _ => Encoding.UTF8.GetBytes(fuzz.ValidEvent().ToJsonString()),
        };
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        var single = await fuzz.PostAsync(Single, body, c.ContentType);
        var batch = await fuzz.PostAsync(Batch, body, c.ContentType);
        Assert.Equal(before + (single.Wrote ? 1 : 0), fuzz.RecordsIn(FuzzFixture.Topic));
        Assert.NotEqual(200, batch.Status);
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Binary_bodies_with_random_or_flipped_bytes_are_refused_cleanly(Mutation mutation, bool protobuf, int header)
    {
        var e = fuzz.ValidEvent();
        var valid = protobuf ? fuzz.ProtobufBody(e) : fuzz.AvroBody(e);
        var body = (header % 4) switch
        {
            // Random bytes behind a real schema id, behind a random id, a flipped valid body, or nothing like the wire format.
            0 => [.. valid[..5], .. mutation.Bytes, .. mutation.Apply(e).Take(64)],
            1 => [0, .. BitConverter.GetBytes(header), .. valid[5..]],
            2 => FlipBit(valid, mutation.Position, mutation.Choice),
            _ => mutation.Kind == MutationKind.RandomBytes ? mutation.Bytes : valid[..(mutation.Position % valid.Length)],
        };
        var type = protobuf ? "application/x-protobuf" : "application/vnd.kafka.avro.v2+binary";
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        var answer = await fuzz.PostAsync(Single, body, type);
        Assert.Equal(before + (answer.Wrote ? 1 : 0), fuzz.RecordsIn(FuzzFixture.Topic));
    }

    private static byte[] FlipBit(byte[] valid, int position, int bit)
    {
        var copy = (byte[])valid.Clone();
        var at = 5 + (position % (copy.Length - 5));
        copy[at] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    [InlineData(-1L)]
    [InlineData(253402300799000L)]
    public async Task Avro_timestamps_Kafka_cannot_hold_are_400_INVALID_EVENT(long millis)
    {
        var e = fuzz.ValidEvent();
        e["timestamp"] = millis;
        var answer = await fuzz.PostAsync(Single, fuzz.AvroBody(e), "application/vnd.kafka.avro.v2+binary");
        Assert.Equal("INVALID_EVENT", answer.ErrorCode);
        Assert.NotNull(JsonNode.Parse(answer.Body)!["details"]!["invalid_fields"]!["timestamp"]);
    }

    [Fact]
    public async Task Valid_binary_bodies_are_accepted_so_the_refusals_above_mean_something()
    {
        Assert.Equal(200, (await fuzz.PostAsync(Single, fuzz.AvroBody(fuzz.ValidEvent()), "application/vnd.kafka.avro.v2+binary")).Status);
        Assert.Equal(200, (await fuzz.PostAsync(Single, fuzz.ProtobufBody(fuzz.ValidEvent()), "application/x-protobuf")).Status);
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Any_query_string_on_the_latest_route_is_answered_cleanly(QueryString query) =>
        await fuzz.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri($"api/v1/events/iot.sensors/latest?{query.Text}", UriKind.Relative)));

    [Property(MaxTest = 150, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Any_path_and_method_is_answered_cleanly(FuzzRequest r)
    {
        var request = new HttpRequestMessage(new HttpMethod(r.Method), new Uri(r.Path, UriKind.Relative));
        if (r.Body.Length > 0 && r.Method is not ("GET" or "HEAD" or "TRACE"))
        {
            request.Content = new StringContent(r.Body, Encoding.UTF8, "application/json");
        }

        // HEAD answers have no body to check.
        if (r.Method == "HEAD")
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            using var response = await fuzz.Client.SendAsync(request);
            Assert.True((int)response.StatusCode < 500);
            Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < FuzzFixture.AnswerBound);
            return;
        }

        await fuzz.SendAsync(request);
    }

    [Theory]
    [InlineData("api/v1/health")]
    [InlineData("openapi/v1.json")]
    [InlineData("docs")]
    [InlineData("api/v1/metrics")]
    public async Task Public_routes_ignore_hostile_queries_bodies_and_headers(string path)
    {
        foreach (var query in FuzzInputs.QueryStrings().Sample(20, 20))
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{path}?{query}", UriKind.Relative));
            request.Headers.TryAddWithoutValidation("Accept", ";;;/;;, */*;q=abc");
            request.Headers.TryAddWithoutValidation("X-Request-ID", new string('x', 5_000));
            var answer = await fuzz.SendAsync(request, new HttpClient { BaseAddress = fuzz.Gateway.BaseAddress });
            Assert.True(answer.FromKestrel || answer.Status is 200 or 304 or 406, $"{path}?{query}: {answer.Status}");
        }
    }

    [Fact]
    public async Task Wrong_content_lengths_and_cut_bodies_get_an_answer_or_a_clean_close()
    {
        var server = fuzz.Gateway.BaseAddress;
        var host = $"{server.Host}:{server.Port}";
        var auth = "Authorization: Bearer " + GatewayServer.Token();
        var valid = Encoding.UTF8.GetBytes(fuzz.ValidEvent().ToJsonString());

        // A body cut short (Content-Length says the cut length): a complete request that is not JSON.
        var cut = await RawHttp.SendAsync(server, RawHttp.Request("POST", "/" + Single, host, [auth, "Content-Type: application/json", $"Content-Length: {valid.Length / 2}", "Connection: close"], valid[..(valid.Length / 2)]));
        Assert.Equal(400, cut!.Status);
        FuzzAnswer.AssertErrorResponse(cut.Body, "cut body");

        // Longer than the body, then the client stops sending: the request cannot complete.
        var longer = await IncompleteAsync(server, RawHttp.Request("POST", "/" + Single, host, [auth, "Content-Type: application/json", $"Content-Length: {valid.Length + 100}"], valid));
        if (longer is not null)
        {
            Assert.InRange(longer.Status, 400, 499);
        }

        // No Content-Length and no chunking: an empty body.
        var missing = await RawHttp.SendAsync(server, RawHttp.Request("POST", "/" + Single, host, [auth, "Content-Type: application/json", "Connection: close"], []));
        Assert.Equal(400, missing!.Status);
        FuzzAnswer.AssertErrorResponse(missing.Body, "missing Content-Length");

        // Chunked with a chunk cut short.
        var chunked = await IncompleteAsync(server, RawHttp.Request("POST", "/" + Single, host, [auth, "Content-Type: application/json", "Transfer-Encoding: chunked"], Encoding.ASCII.GetBytes("ff\r\n{\"event_id\"")));
        if (chunked is not null)
        {
            Assert.InRange(chunked.Status, 400, 499);
        }

        // A Content-Length over the limit is refused before the body is read.
        var huge = await RawHttp.SendAsync(server, RawHttp.Request("POST", "/" + Single, host, [auth, "Content-Type: application/json", "Content-Length: 999999999999", "Connection: close"], valid));
        Assert.Equal(413, huge!.Status);
        FuzzAnswer.AssertErrorResponse(huge.Body, "huge Content-Length");

        // Malformed framing is refused by Kestrel itself (an empty 400: the request never reaches the application).
        foreach (var header in new[] { "Content-Length: abc", "Content-Length: -1", "Content-Length: 1, 2" })
        {
            var bad = await RawHttp.SendAsync(server, RawHttp.Request("POST", "/" + Single, host, [auth, "Content-Type: application/json", header], valid));
            Assert.Equal(400, bad!.Status);
        }

        await fuzz.AssertStillServingAsync();
    }

    /// <summary>
    /// A request the client never finishes (it half-closes mid-body): an answer, if any, is a 4xx;
    /// the connection may also be closed or reset, since no complete request was made.
    /// </summary>
    private static async Task<RawHttp.Answer?> IncompleteAsync(Uri server, byte[] request)
    {
        try
        {
            return await RawHttp.SendAsync(server, request, halfClose: true);
        }
        catch (IOException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Oversized_bodies_are_413_and_deep_or_wide_json_is_400_quickly()
    {
        var big = new byte[1024 * 1024 + 10];
        big.AsSpan().Fill((byte)'[');
        Assert.Equal(413, (await fuzz.PostAsync(Single, big, "application/json")).Status);

        var deep = Encoding.ASCII.GetBytes(new string('[', 900_000));
        Assert.Equal("INVALID_JSON", (await fuzz.PostAsync(Single, deep, "application/json")).ErrorCode);
        Assert.Equal("INVALID_JSON", (await fuzz.PostAsync(Batch, deep, "application/json")).ErrorCode);

        var wide = Encoding.ASCII.GetBytes("[" + string.Join(",", Enumerable.Repeat("{}", 500_000)) + "]");
        Assert.Equal("INVALID_BATCH", (await fuzz.PostAsync(Batch, wide, "application/json")).ErrorCode);

        // Chunked, with no Content-Length to refuse early: cut off at the limit while reading.
        var request = new HttpRequestMessage(HttpMethod.Post, Single) { Content = new StreamContent(new MemoryStream(big)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(413, (await fuzz.SendAsync(request)).Status);
        await fuzz.AssertStillServingAsync();
    }

    [Fact]
    public async Task The_gateway_still_serves_after_the_fuzz_runs() => await fuzz.AssertStillServingAsync();
}
