using System.Threading.Channels;
using EventPlatform.Core.Events;

namespace EventPlatform.Gateway.Streaming;

/// <summary>One event of a topic, serialized once and shared by every subscriber it goes to.</summary>
/// <param name="Json">The text frame: <c>{"type":"event", ...canonical event fields..., "partition":p, "offset":o}</c>.</param>
internal sealed record StreamFrame(int Partition, long Offset, IngestEvent Event, ReadOnlyMemory<byte> Json);

/// <summary>Why a subscription ended.</summary>
internal enum StreamEnd
{
    /// <summary>Still running.</summary>
    None,

    /// <summary>The connection ended it (the client left or was closed).</summary>
    Closed,

    /// <summary>More frames were queued for it than <see cref="StreamingOptions.SubscriberQueueCapacity"/>.</summary>
    SlowConsumer,

    /// <summary>The topic's consumer failed for good.</summary>
    HubFailed,
}

/// <summary>
/// One WebSocket's place at a topic's hub: a bounded queue of frames that the hub fills and the
/// connection drains. The hub never waits on it: when the queue is full the subscription ends
/// (<see cref="StreamEnd.SlowConsumer"/>) and its connection is closed.
/// </summary>
/// <remarks>
/// Written by the hub's thread only, read by the connection only. <see cref="End"/> and
/// <see cref="Dispose"/> are thread-safe and idempotent.
/// </remarks>
internal sealed class StreamSubscription : IDisposable
{
    private readonly Channel<StreamFrame> _frames;
    private readonly StreamHubRegistry _registry;
    private readonly CancellationTokenSource _ended = new();
    private int _end;

    public StreamSubscription(StreamHubRegistry registry, TopicStreamHub hub, StreamFilter filter, int capacity)
    {
        _registry = registry;
        Hub = hub;
        Filter = filter;
        Capacity = capacity;
        _frames = Channel.CreateBounded<StreamFrame>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public TopicStreamHub Hub { get; }

    public StreamFilter Filter { get; }

    public int Capacity { get; }

    public ChannelReader<StreamFrame> Frames => _frames.Reader;

    public StreamEnd EndReason => (StreamEnd)Volatile.Read(ref _end);

    /// <summary>Cancelled when the subscription ends, whatever the reason.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Completes when the hub reads the topic (faults when it cannot).</summary>
    public Task ReadyAsync(CancellationToken cancellationToken) => Hub.Started.WaitAsync(cancellationToken);

    /// <summary>Called by the hub's thread for every event of the topic; never blocks.</summary>
    public void Offer(StreamFrame frame)
    {
        if (Volatile.Read(ref _end) != (int)StreamEnd.None || !Filter.Matches(frame.Event))
        {
            return;
        }

        if (!_frames.Writer.TryWrite(frame))
        {
            End(StreamEnd.SlowConsumer);
        }
    }

    /// <summary>Ends the subscription: no more frames are queued, and it leaves the hub.</summary>
    public void End(StreamEnd reason)
    {
        if (Interlocked.CompareExchange(ref _end, (int)reason, (int)StreamEnd.None) != (int)StreamEnd.None)
        {
            return;
        }

        _frames.Writer.TryComplete();
        _registry.Unsubscribe(this);
        _ended.Cancel();
    }

    public void Dispose()
    {
        End(StreamEnd.Closed);
        _ended.Dispose();
    }
}
