using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests;

/// <summary>One thing written to a topic: an event through the gateway, or a record that is not an event, straight into Kafka.</summary>
public abstract record Written
{
    private Written()
    {
    }

    /// <param name="Second">Event time, in seconds after a fixed instant (a small range, so that ties happen).</param>
    /// <param name="Key">The partition key (user_id), or none.</param>
    public sealed record Event(int Second, string? Key) : Written;

    /// <param name="Partition">Where the record goes.</param>
    /// <param name="Value">Its bytes (null is a tombstone).</param>
    public sealed record NotAnEvent(int Partition, byte[]? Value) : Written
    {
        public override string ToString() => $"NotAnEvent({Partition}, {(Value is null ? "null" : Encoding.UTF8.GetString(Value))})";
    }
}

/// <summary>What a Property 12 case writes and asks for.</summary>
public sealed record LatestCase(IReadOnlyList<Written> Writes, int Limit)
{
    public override string ToString() => $"limit {Limit}: {string.Join(", ", Writes)}";
}

/// <summary>What a Property 13 case publishes before connecting and after.</summary>
public sealed record StreamCase(IReadOnlyList<string?> KeysBefore, IReadOnlyList<IReadOnlyList<string?>> BatchesAfter)
{
    public override string ToString() =>
        $"before [{string.Join(",", KeysBefore)}] after {string.Join(" ", BatchesAfter.Select(b => "[" + string.Join(",", b) + "]"))}";
}

public static class StreamingArbitraries
{
    private static readonly Gen<string?> Key = Gen.Elements<string?>(null, "k0", "k1", "k2", "k3", "k4", "k5", "k6");

    private static readonly Gen<byte[]?> Garbage = Gen.Elements<byte[]?>(
        "not json"u8.ToArray(),
        "{}"u8.ToArray(),
        "[1,2,3]"u8.ToArray(),
        """{"event_id":"no-timestamp","event_type":"x","payload":{}}"""u8.ToArray(),
        null);

    public static Arbitrary<LatestCase> LatestCase() => Arb.From(
        from events in Gen.ListOf(Gen.Zip(Gen.Choose(0, 15), Key).Select(p => (Written)new Written.Event(p.Item1, p.Item2)))
        from garbage in Gen.Choose(0, 3).SelectMany(n => Gen.ListOf(Gen.Zip(Gen.Choose(0, StreamingFixture.Partitions - 1), Garbage), n))
        from positions in Gen.ListOf(Gen.Choose(0, 1000), garbage.Count)
        from limit in Gen.Choose(1, 30)
        select new LatestCase(Interleave([.. events.Take(40)], [.. garbage.Select(g => (Written)new Written.NotAnEvent(g.Item1, g.Item2))], [.. positions]), limit));

    public static Arbitrary<StreamCase> StreamCase() => Arb.From(
        from before in Gen.ListOf(Key).Select(k => k.Take(6).ToList())
        from after in Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(Gen.NonEmptyListOf(Key).Select(k => (IReadOnlyList<string?>)[.. k.Take(10)]), n))
        select new StreamCase(before, [.. after]));

    private static List<Written> Interleave(List<Written> events, List<Written> garbage, List<int> positions)
    {
        var all = new List<Written>(events);
        for (var i = 0; i < garbage.Count; i++)
        {
            all.Insert(positions[i] % (all.Count + 1), garbage[i]);
        }

        return all;
    }
}

[Collection(StreamingCollection.Name)]
public sealed class StreamingProperties(StreamingFixture streaming)
{
    private static readonly DateTimeOffset Epoch = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);

    // Property 13's cases share a topic: each case's socket must ignore what earlier cases wrote.
    private (string, string)? _streamTopic;

    /// <summary>One record of a topic as the test wrote it: where it is, and the event's id and time if it is one.</summary>
    private sealed record Stored(int Partition, long Offset, string? EventId, DateTimeOffset Timestamp);

    // Feature: kafka-event-streaming-platform, Property 12: Recent events query correctness
    // For any GET request to the latest events endpoint, the returned events should be from the
    // specified topic and ordered by timestamp in descending order - and they are exactly the newest
    // `limit` events (by event time) among the last `limit` events of each partition, skipping
    // records that are not events, as a plain model of what was written computes them.
    [Property(MaxTest = 100, Arbitrary = [typeof(StreamingArbitraries)])]
    public async Task Property_12_latest_returns_the_newest_events_of_the_topic_newest_first(LatestCase c)
    {
        var (type, topic) = streaming.NewTopic("p12");
        var stored = await WriteAsync(type, topic, c.Writes);

        var response = await streaming.Gateway.Client.GetAsync($"api/v1/events/{type}/latest?limit={c.Limit}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(topic, (string?)body["topic"]);
        var events = body["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(events.Count, (int)body["count"]!);
        Assert.All(events, e => Assert.Equal(type, (string?)e["event_type"]));
        var times = events.Select(e => DateTimeOffset.Parse((string)e["timestamp"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(times.Zip(times.Skip(1)).All(p => p.First >= p.Second), "not newest first");

        var expected = Reference(stored, c.Limit);
        Assert.Equal(
            expected.Select(s => (s.EventId, s.Partition, s.Offset)),
            events.Select(e => ((string?)e["event_id"], (int)e["partition"]!, (long)e["offset"]!)));
    }

    // Feature: kafka-event-streaming-platform, Property 13: WebSocket streaming consistency
    // For any WebSocket connection to a topic, all events published to that topic after connection
    // establishment should be streamed to the client in order (per partition) - and none published
    // before it.
    [Property(MaxTest = 100, Arbitrary = [typeof(StreamingArbitraries)])]
    public async Task Property_13_a_socket_gets_exactly_the_events_published_after_it_connected_in_partition_order(StreamCase c)
    {
        var (type, topic) = _streamTopic ??= streaming.NewTopic("p13");
        var ends = new Dictionary<int, long>();
        if (c.KeysBefore.Count > 0)
        {
            foreach (var ack in await PostBatchAsync(type, topic, c.KeysBefore))
            {
                ends[ack.Partition] = Math.Max(ends.GetValueOrDefault(ack.Partition), ack.Offset + 1);
            }
        }

        await using var socket = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{topic}");
        var subscribed = await socket.ReceiveFrameAsync();
        var start = subscribed["start_offsets"]!.AsArray().ToDictionary(p => (int)p!["partition"]!, p => (long)p!["offset"]!);
        foreach (var (partition, end) in ends)
        {
            Assert.Equal(end, start[partition]);
        }

        var expected = new List<(string Id, int Partition, long Offset)>();
        foreach (var batch in c.BatchesAfter)
        {
            expected.AddRange(await PostBatchAsync(type, topic, batch));
        }

        // A last event in every partition: whatever reaches the socket before it, in that partition, is checked too.
        var sentinels = await PostBatchAsync(type, topic, [.. Enumerable.Range(0, StreamingFixture.Partitions).Select(p => StreamingFixture.KeyFor(p, "sentinel"))]);
        expected.AddRange(sentinels);

        var received = new List<(string Id, int Partition, long Offset)>();
        var open = sentinels.Select(s => s.Id).ToHashSet();
        while (open.Count > 0)
        {
            var frame = await socket.ReceiveFrameAsync();
            Assert.Equal("event", (string?)frame["type"]);
            var id = (string)frame["event_id"]!;
            received.Add((id, (int)frame["partition"]!, (long)frame["offset"]!));
            open.Remove(id);
        }

        Assert.Equal(expected.OrderBy(e => e.Id, StringComparer.Ordinal), received.OrderBy(e => e.Id, StringComparer.Ordinal));
        foreach (var partition in received.GroupBy(r => r.Partition))
        {
            Assert.Equal(
                expected.Where(e => e.Partition == partition.Key).OrderBy(e => e.Offset).Select(e => e.Id),
                partition.Select(r => r.Id));
        }
    }

    /// <summary>Plain model: per partition, walk back from the newest record collecting events (at most `limit`, looking at most 4 × limit records back); then newest first by event time, ties by partition then newest offset.</summary>
    private static List<Stored> Reference(List<Stored> written, int limit)
    {
        var candidates = new List<Stored>();
        foreach (var partition in written.GroupBy(s => s.Partition))
        {
            var newestFirst = partition.OrderByDescending(s => s.Offset).Take(4 * limit).Where(s => s.EventId is not null).Take(limit);
            candidates.AddRange(newestFirst);
        }

        return [.. candidates
            .OrderByDescending(s => s.Timestamp)
            .ThenBy(s => s.Partition)
            .ThenByDescending(s => s.Offset)
            .Take(limit)];
    }

    /// <summary>Writes in order: runs of events as one batch request each, other records with the raw producer.</summary>
    private async Task<List<Stored>> WriteAsync(string type, string topic, IReadOnlyList<Written> writes)
    {
        var stored = new List<Stored>();
        var run = new List<Written.Event>();
        async Task FlushAsync()
        {
            if (run.Count == 0)
            {
                return;
            }

            var batch = new JsonArray([.. run.Select(e => (JsonNode)new JsonObject
            {
                ["event_id"] = "evt_" + Guid.NewGuid().ToString("N"),
                ["timestamp"] = Epoch.AddSeconds(e.Second).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["event_type"] = type,
                ["user_id"] = e.Key,
                ["payload"] = new JsonObject { ["second"] = e.Second },
            })]);
            var response = await streaming.Gateway.Client.PostAsync($"api/v1/events/{topic}/batch", TestEvents.Json(batch));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var results = (await response.JsonAsync())["results"]!.AsArray();
            for (var i = 0; i < run.Count; i++)
            {
                stored.Add(new Stored((int)results[i]!["partition"]!, (long)results[i]!["offset"]!, (string)results[i]!["event_id"]!, Epoch.AddSeconds(run[i].Second)));
            }

            run.Clear();
        }

        foreach (var write in writes)
        {
            switch (write)
            {
                case Written.Event e:
                    run.Add(e);
                    break;
                case Written.NotAnEvent garbage:
                    await FlushAsync();
                    var delivered = await streaming.Raw.ProduceAsync(new TopicPartition(topic, garbage.Partition), new Message<byte[]?, byte[]> { Value = garbage.Value! });
                    stored.Add(new Stored(delivered.Partition.Value, delivered.Offset.Value, null, default));
                    break;
            }
        }

        await FlushAsync();
        return stored;
    }

    private async Task<List<(string Id, int Partition, long Offset)>> PostBatchAsync(string type, string topic, IReadOnlyList<string?> keys)
    {
        var batch = new JsonArray([.. keys.Select(k => (JsonNode)new JsonObject
        {
            ["event_id"] = "evt_" + Guid.NewGuid().ToString("N"),
            ["timestamp"] = "2024-01-15T10:30:00Z",
            ["event_type"] = type,
            ["user_id"] = k,
            ["payload"] = new JsonObject(),
        })]);
        var response = await streaming.Gateway.Client.PostAsync($"api/v1/events/{topic}/batch", TestEvents.Json(batch));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.JsonAsync())["results"]!.AsArray().Select(r => ((string)r!["event_id"]!, (int)r["partition"]!, (long)r["offset"]!))];
    }
}
