using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Core.Topics;

namespace EventPlatform.LoadGen.Tests;

public class LoadGenTests
{
    [Theory]
    [InlineData("iot.sensors")]
    [InlineData("clickstream")]
    [InlineData("transactions")]
    public void Generated_events_are_valid_unique_and_route_to_the_topic(string topic)
    {
        var factory = new EventBodyFactory(topic, "run123456789");
        var router = new TopicRouter(TopicPlan.Seed, dynamicTopics: false);
        var ids = new HashSet<string>();

        for (var i = 0; i < 200; i++)
        {
            var e = EventJsonReader.ReadSingle(factory.Create(1, asArray: false)).Result.Event;
            Assert.NotNull(e);
            Assert.True(ids.Add(e.EventId), $"duplicate id {e.EventId}");
            Assert.NotNull(e.PartitionKey);
            Assert.Equal(TopicRouter.FullTopicName(topic), router.RouteEventType(e.EventType).Topic);
        }

        var batch = EventJsonReader.ReadBatch(factory.Create(50, asArray: true), maxEvents: 100);
        Assert.Equal(50, batch.Results.Count);
        Assert.All(batch.Results, r => Assert.True(r.IsValid));
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("500ms", 500)]
    [InlineData("45", 45_000)]
    [InlineData("00:00:10", 10_000)]
    public void Durations_read_the_way_people_write_them(string text, int milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("3x")]
    [InlineData("")]
    [InlineData("-5s")]
    public void Nonsense_durations_are_refused(string text) =>
        Assert.False(DurationParser.TryParse(text, out _));
}
