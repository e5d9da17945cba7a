using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Core.Topics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Core.Tests;

public class RoutingProperties
{
    // The seed's routing, written out by hand: the reference the router is checked against.
    private static readonly Dictionary<string, string> SeedRoutes = new()
    {
        ["iot.sensor"] = "events.iot.sensors",
        ["clickstream"] = "events.clickstream",
        ["transaction"] = "events.transactions",
    };

    private static Gen<string> EventTypeGen() =>
        Gen.OneOf(
            Gen.Elements(EventTypes.Known.ToArray()),
            Gen.Elements("aggregated", "dlq", "iot.sensors", "transactions", "page.view", "order_created", "a", "x-y.z"),
            Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789._-".ToCharArray()).NonEmptyListOf().Select(cs => new string([.. cs.Take(40)])));

    public static class EventTypeArbitrary
    {
        public static Arbitrary<string> EventType() => Arb.From(EventTypeGen());
    }

    // Feature: kafka-event-streaming-platform, Property 2: Event routing correctness
    // For any valid event received by the FastAPI Service, the event should be published to the
    // Kafka topic that corresponds to its event_type field.
    [Property(MaxTest = 200, Arbitrary = [typeof(EventTypeArbitrary)])]
    public void Property_2_every_event_type_routes_to_its_own_topic(string eventType, bool dynamicTopics)
    {
        var router = new TopicRouter(TopicPlan.Seed, dynamicTopics);
        var route = router.RouteEventType(eventType);

        if (SeedRoutes.TryGetValue(eventType, out var expected))
        {
            Assert.Equal(RouteOutcome.Planned, route.Outcome);
            Assert.Equal(expected, route.Topic);
        }
        else if (!dynamicTopics)
        {
            Assert.Equal(RouteOutcome.UnknownEventType, route.Outcome);
        }
        else if (TopicPlan.Seed.Find("events." + eventType) is not null)
        {
            // A new type may never write into a topic that belongs to another type or to the platform.
            Assert.Equal(RouteOutcome.ReservedTopic, route.Outcome);
        }
        else
        {
            Assert.Equal(RouteOutcome.Dynamic, route.Outcome);
            Assert.Equal("events." + eventType, route.Topic);
        }
    }

    // Feature: kafka-event-streaming-platform, Property 2: Event routing correctness
    // The topic named in the request path is accepted only when it is the event type's own
    // topic, in its short or full form.
    [Property(MaxTest = 200, Arbitrary = [typeof(EventTypeArbitrary)])]
    public void Property_2_a_path_topic_matches_only_the_event_types_topic(string eventType, string otherType)
    {
        var router = new TopicRouter(TopicPlan.Seed, dynamicTopics: true);
        var route = router.RouteEventType(eventType);
        if (!route.IsRoutable)
        {
            return;
        }

        var shortName = route.Topic!["events.".Length..];
        Assert.Equal(route.Topic, TopicRouter.FullTopicName(shortName));
        Assert.Equal(route.Topic, TopicRouter.FullTopicName(route.Topic!));

        var other = router.RouteEventType(otherType);
        if (other.IsRoutable && other.Topic != route.Topic)
        {
            Assert.NotEqual(route.Topic, TopicRouter.FullTopicName(other.Topic!));
        }
    }

    [Fact]
    public void Only_ingest_topics_take_events_from_the_path()
    {
        var router = new TopicRouter(TopicPlan.Seed, dynamicTopics: false);
        Assert.True(router.IsIngestPath("iot.sensors"));
        Assert.True(router.IsIngestPath("events.clickstream"));
        Assert.False(router.IsIngestPath("dlq"));
        Assert.False(router.IsIngestPath("events.aggregated"));
        Assert.False(router.IsIngestPath("unknown"));
        Assert.True(new TopicRouter(TopicPlan.Seed, dynamicTopics: true).IsIngestPath("unknown"));
    }

    [Fact]
    public void The_seed_plan_has_its_five_topics()
    {
        Assert.Equal(
            [("events.iot.sensors", 12), ("events.clickstream", 24), ("events.transactions", 12), ("events.aggregated", 12), ("events.dlq", 6)],
            TopicPlan.Seed.Topics.Select(t => (t.Name, t.Partitions)));
        Assert.All(TopicPlan.Seed.Topics, t => Assert.Equal(3, t.ReplicationFactor));
    }
}
