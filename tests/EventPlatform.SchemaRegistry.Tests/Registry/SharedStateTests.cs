using EventPlatform.Testing;
using static EventPlatform.SchemaRegistry.Tests.Registry.Rest;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>The state lives in Kafka: instances agree, restarts lose nothing, hard deletes stay deleted.</summary>
[Collection(RegistryCollection.Name)]
public sealed class SharedStateTests(RegistryFixture fixture)
{
    [Fact]
    public async Task A_second_instance_reads_the_same_state_from_Kafka_after_the_first_stops()
    {
        var topic = "_schemas-restart-" + Guid.NewGuid().ToString("N");
        var subject = RegistryFixture.NewSubject();
        var gone = RegistryFixture.NewSubject("gone");
        int id1, id2;
        await using (var first = await RegistryServer.StartAsync(fixture.Kafka.Cluster, topic))
        {
            id1 = (await PostAsync(first.Client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1))).Body!["id"]!.GetValue<int>();
            id2 = (await PostAsync(first.Client, $"subjects/{subject}/versions", AvroBody(TestSchemas.V2))).Body!["id"]!.GetValue<int>();
            await PutAsync(first.Client, $"config/{subject}", new { compatibility = "FULL" });
            await PutAsync(first.Client, $"mode/{subject}", new { mode = "READWRITE" });

            await PostAsync(first.Client, $"subjects/{gone}/versions", AvroBody(TestSchemas.Record("Gone", "a")));
            Assert.Equal(200, (await DeleteAsync(first.Client, $"subjects/{gone}")).Status);
            Assert.Equal(200, (await DeleteAsync(first.Client, $"subjects/{gone}?permanent=true")).Status);
            await DeleteAsync(first.Client, $"subjects/{subject}/versions/1");
        }

        await using var second = await RegistryServer.StartAsync(fixture.Kafka.Cluster, topic);
        Assert.Equal([2], (await GetAsync(second.Client, $"subjects/{subject}/versions")).Body!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal([1, 2], (await GetAsync(second.Client, $"subjects/{subject}/versions?deleted=true")).Body!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal(id1, (await GetAsync(second.Client, $"subjects/{subject}/versions/1?deleted=true")).Body!["id"]!.GetValue<int>());
        Assert.Equal(id2, (await GetAsync(second.Client, $"subjects/{subject}/versions/latest")).Body!["id"]!.GetValue<int>());
        Assert.Equal("FULL", (await GetAsync(second.Client, $"config/{subject}")).Body!["compatibilityLevel"]!.GetValue<string>());

        // The hard delete never comes back.
        Assert.Equal(40401, ErrorCode((await GetAsync(second.Client, $"subjects/{gone}/versions?deleted=true")).Body));
        Assert.DoesNotContain((await GetAsync(second.Client, "subjects?deleted=true")).Body!.AsArray(), s => s!.GetValue<string>() == gone);

        // New ids continue after the highest ever given.
        var id3 = (await PostAsync(second.Client, $"subjects/{RegistryFixture.NewSubject()}/versions", AvroBody(TestSchemas.Record("Fresh", "x")))).Body!["id"]!.GetValue<int>();
        Assert.True(id3 > Math.Max(id1, id2), $"id {id3} reused");
    }

    [Fact]
    public async Task Two_instances_registering_at_once_agree_on_every_version_and_id()
    {
        var topic = "_schemas-pair-" + Guid.NewGuid().ToString("N");
        await using var a = await RegistryServer.StartAsync(fixture.Kafka.Cluster, topic);
        await using var b = await RegistryServer.StartAsync(fixture.Kafka.Cluster, topic);
        var subject = RegistryFixture.NewSubject("race");
        await PutAsync(a.Client, $"config/{subject}", new { compatibility = "NONE" });

        // 20 different schemas, half through each instance, all at once.
        var tasks = Enumerable.Range(0, 20).Select(i =>
            PostAsync(i % 2 == 0 ? a.Client : b.Client, $"subjects/{subject}/versions", AvroBody(TestSchemas.Record("R" + i, "f" + i)))).ToList();
        var answers = await Task.WhenAll(tasks);
        Assert.All(answers, x => Assert.Equal(200, x.Status));

        var versions = answers.Select(x => x.Body!["version"]!.GetValue<int>()).ToList();
        var ids = answers.Select(x => x.Body!["id"]!.GetValue<int>()).ToList();
        Assert.Equal(Enumerable.Range(1, 20), versions.Order());
        Assert.Equal(20, ids.Distinct().Count());

        foreach (var client in new[] { a.Client, b.Client })
        {
            for (var i = 0; i < 20; i++)
            {
                var (_, body) = await GetAsync(client, $"subjects/{subject}/versions/{versions[i]}");
                Assert.Equal(ids[i], body!["id"]!.GetValue<int>());
                Assert.Contains("\"R" + i + "\"", body["schema"]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }
    }
}
