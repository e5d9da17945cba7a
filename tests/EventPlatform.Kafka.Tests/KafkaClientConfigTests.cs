using EventPlatform.Kafka.Configuration;

namespace EventPlatform.Kafka.Tests;

/// <summary>The consumer settings every reader of Kafka gets from <see cref="KafkaClientConfig.ForConsumer"/>.</summary>
public sealed class KafkaClientConfigTests
{
    [Fact]
    public void A_consumer_fetches_again_soon_after_its_queue_was_full()
    {
        // librdkafka's default, 1000 ms, left a consumer catching up idle for up to a second at a time (README, processor).
        var config = KafkaClientConfig.ForConsumer(new KafkaOptions(), "test", "127.0.0.1:9092", "group");
        Assert.Equal("10", config.Get("fetch.queue.backoff.ms"));

        var options = new KafkaOptions();
        options.Consumer.FetchQueueBackoffMs = 1000;
        Assert.Equal("1000", KafkaClientConfig.ForConsumer(options, "test", "127.0.0.1:9092", "group").Get("fetch.queue.backoff.ms"));
    }

    [Fact]
    public void The_seed_consumer_settings_are_kept()
    {
        var config = KafkaClientConfig.ForConsumer(new KafkaOptions(), "test", "127.0.0.1:9092", "group");
        Assert.Equal("1024", config.Get("fetch.min.bytes"));
        Assert.Equal("false", config.Get("enable.auto.commit"), ignoreCase: true);
        Assert.Equal("read_committed", config.Get("isolation.level"));
    }
}
