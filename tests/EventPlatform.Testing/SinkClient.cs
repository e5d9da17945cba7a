using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Confluent.Kafka;

namespace EventPlatform.Testing;

/// <summary>
/// Reads a running <c>sink</c> child from outside, as a person or another service would: its warehouse
/// through <c>POST /query</c> with a platform token, and its progress through the offsets its
/// connector group committed to Kafka (committed only after the warehouse transaction).
/// </summary>
public static class SinkClient
{
    /// <summary>The rows of one SELECT (at most 10,000, the endpoint's limit); fails with the answer's body on any status but 200.</summary>
    public static async Task<List<JsonArray>> QueryAsync(Uri sink, string sql, int maxRows = 10_000)
    {
        using var http = new HttpClient { BaseAddress = sink, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("sink-reader"));
        using var response = await http.PostAsync("query", TestEvents.Json(new JsonObject { ["sql"] = sql, ["max_rows"] = maxRows })).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST /query answered {(int)response.StatusCode}: {body}");
        }

        var answer = JsonNode.Parse(body)!.AsObject();
        if ((bool)answer["truncated"]!)
        {
            throw new InvalidOperationException($"'{sql}' has more than {maxRows} rows: page it.");
        }

        return [.. answer["rows"]!.AsArray().Select(r => r!.AsArray())];
    }

    /// <summary>One number: the first column of the first row.</summary>
    public static async Task<long> ScalarAsync(Uri sink, string sql) => (long)(await QueryAsync(sink, sql).ConfigureAwait(false))[0][0]!;

    /// <summary>
    /// Every value of the text column <paramref name="column"/> of <paramref name="table"/>, every copy,
    /// read in pages of 10,000 in DuckDB's row id order (keyset paging on the row id, so no row is
    /// skipped or read twice, duplicates included).
    /// </summary>
    public static async Task<List<string>> ReadColumnAsync(Uri sink, string table, string column)
    {
        var values = new List<string>();
        var last = -1L;
        while (true)
        {
            var page = await QueryAsync(sink, $"SELECT rowid, {column} FROM {table} WHERE rowid > {last} ORDER BY rowid LIMIT 10000").ConfigureAwait(false);
            values.AddRange(page.Select(r => (string)r[1]!));
            if (page.Count < 10_000)
            {
                return values;
            }

            last = (long)page[^1][0]!;
        }
    }

    /// <summary>The offsets group <paramref name="group"/> committed on <paramref name="topic"/>, summed over its partitions.</summary>
    public static long CommittedTotal(string bootstrapServers, string group, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var partitions = metadata.Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = group }).Build();
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10)).Where(p => p.Offset.Value > 0).Sum(p => p.Offset.Value);
    }

    /// <summary>The end offsets (high watermarks) of <paramref name="topic"/>, summed over its partitions: what a sink that read everything has committed.</summary>
    public static long EndTotal(string bootstrapServers, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "ends-" + Guid.NewGuid() }).Build();
        return metadata.Topics.Single().Partitions.Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10)).High.Value);
    }
}
