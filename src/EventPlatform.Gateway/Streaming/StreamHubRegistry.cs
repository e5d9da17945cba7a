using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// The hubs of this process, one per streamed topic: made with a topic's first subscriber,
/// stopped <see cref="StreamingOptions.HubIdleTimeout"/> after its last one left.
/// </summary>
/// <remarks>Thread-safe: one lock guards the hubs and their subscriber lists.</remarks>
internal sealed class StreamHubRegistry : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TopicStreamHub> _hubs = new(StringComparer.Ordinal);
    private readonly KafkaTopicInspector _inspector;
    private readonly StreamingOptions _options;
    private readonly ConsumerConfig _config;
    private readonly TimeProvider _time;
    private readonly ILogger<StreamHubRegistry> _logger;
    private bool _disposed;

    private readonly StoredEventDecoder _decoder;

    public StreamHubRegistry(KafkaTopicInspector inspector, StoredEventDecoder decoder, IOptions<KafkaOptions> kafka, IOptions<StreamingOptions> options, TimeProvider time, ILogger<StreamHubRegistry> logger)
    {
        _inspector = inspector;
        _decoder = decoder;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _config = LatestEventsReader.ReaderConfig(kafka.Value, _options, GatewayServiceCollectionExtensions.KafkaClientId + "-stream", enablePartitionEof: false);
    }

    /// <summary>Whether <paramref name="topic"/> has a hub (running, or idle and not yet stopped).</summary>
    public bool HasHub(string topic)
    {
        lock (_gate)
        {
            return _hubs.ContainsKey(topic);
        }
    }

    /// <summary>Subscribers of <paramref name="topic"/> in this process.</summary>
    public int SubscriberCount(string topic)
    {
        lock (_gate)
        {
            return _hubs.TryGetValue(topic, out var hub) ? hub.SubscriberCount : 0;
        }
    }

    /// <summary>
    /// Joins the hub of <paramref name="topic"/> (starting one if needed). Frames flow into the
    /// subscription from now on; await <see cref="StreamSubscription.ReadyAsync"/> before relying on it.
    /// </summary>
    public StreamSubscription Subscribe(string topic, StreamFilter filter)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_hubs.TryGetValue(topic, out var hub) || hub.IsFailed)
            {
                hub = new TopicStreamHub(topic, this, _inspector, _decoder, _config, _options.LatestTimeout, _time, _logger);
                _hubs[topic] = hub;
                hub.Start();
            }

            hub.IdleTimer?.Dispose();
            hub.IdleTimer = null;
            var subscription = new StreamSubscription(this, hub, filter, _options.SubscriberQueueCapacity);
            hub.Add(subscription);
            return subscription;
        }
    }

    /// <summary>Takes a subscription off its hub; an emptied hub is stopped after the idle timeout.</summary>
    internal void Unsubscribe(StreamSubscription subscription)
    {
        var hub = subscription.Hub;
        lock (_gate)
        {
            hub.Remove(subscription);
            if (hub.SubscriberCount > 0 || !IsCurrent(hub) || hub.IdleTimer is not null)
            {
                return;
            }

            if (hub.IsFailed || _options.HubIdleTimeout <= TimeSpan.Zero)
            {
                _hubs.Remove(hub.Topic);
            }
            else
            {
                hub.IdleTimer = _time.CreateTimer(static state => ((IdleCheck)state!).Run(), new IdleCheck(this, hub), _options.HubIdleTimeout, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        _ = hub.StopAsync();
    }

    /// <summary>A hub that could not start: the next subscriber makes a new one.</summary>
    internal void Forget(TopicStreamHub hub)
    {
        lock (_gate)
        {
            if (IsCurrent(hub))
            {
                _hubs.Remove(hub.Topic);
            }

            hub.IdleTimer?.Dispose();
            hub.IdleTimer = null;
        }
    }

    /// <summary>A hub whose consumer failed for good: its subscribers are closed.</summary>
    internal void Fail(TopicStreamHub hub)
    {
        Forget(hub);
        foreach (var subscription in Snapshot(hub))
        {
            subscription.End(StreamEnd.HubFailed);
        }
    }

    private void StopIfIdle(TopicStreamHub hub)
    {
        lock (_gate)
        {
            if (hub.SubscriberCount > 0 || !IsCurrent(hub))
            {
                return;
            }

            _hubs.Remove(hub.Topic);
            hub.IdleTimer?.Dispose();
            hub.IdleTimer = null;
        }

        _ = hub.StopAsync();
    }

    private bool IsCurrent(TopicStreamHub hub) => _hubs.TryGetValue(hub.Topic, out var current) && current == hub;

    private StreamSubscription[] Snapshot(TopicStreamHub hub)
    {
        lock (_gate)
        {
            return hub.Subscribers;
        }
    }

    public async ValueTask DisposeAsync()
    {
        TopicStreamHub[] hubs;
        lock (_gate)
        {
            _disposed = true;
            hubs = [.. _hubs.Values];
            _hubs.Clear();
            foreach (var hub in hubs)
            {
                hub.IdleTimer?.Dispose();
                hub.IdleTimer = null;
            }
        }

        foreach (var hub in hubs)
        {
            foreach (var subscription in Snapshot(hub))
            {
                subscription.End(StreamEnd.Closed);
            }
        }

        await Task.WhenAll(hubs.Select(h => h.StopAsync())).ConfigureAwait(false);
    }

    /// <summary>The idle timer's state: which hub to look at.</summary>
    private sealed class IdleCheck(StreamHubRegistry registry, TopicStreamHub hub)
    {
        public void Run() => registry.StopIfIdle(hub);
    }
}
