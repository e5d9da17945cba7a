using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core.Events;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Kafka.Consuming;
using Microsoft.Extensions.Logging;

using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Gateway.Streaming;

/// <summary>The topic asked for does not exist in the cluster.</summary>
public sealed class TopicNotFoundException(string topic) : Exception($"Topic '{topic}' does not exist.")
{
    public string Topic { get; } = topic;
}

/// <summary>
/// The one Kafka consumer of a topic in this process, shared by every WebSocket subscribed to it.
/// </summary>
/// <remarks>
/// <para>
/// It reads every partition with an explicit assignment (no consumer group: every gateway
/// instance must see every event), starting at the high watermarks taken when it started, and
/// hands each event, serialized once, to every subscriber's bounded queue in the order it reads
/// them, which is offset order within each partition (Property 13).
/// </para>
/// <para>
/// The consumer lives on a thread of its own (Confluent consumers are not thread-safe and their
/// poll blocks). Subscribers are kept in a copy-on-write array: the registry changes it under its
/// lock, the thread reads it without one.
/// </para>
/// </remarks>
internal sealed partial class TopicStreamHub
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PartitionRefreshInterval = TimeSpan.FromSeconds(10);
    private static readonly JsonWriterOptions FrameWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private readonly StreamHubRegistry _registry;
    private readonly KafkaTopicInspector _inspector;
    private readonly ConsumerConfig _config;
    private readonly TimeProvider _time;
    private readonly TimeSpan _learnTimeout;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<int> _partitionsToAdd = new();
    private readonly HashSet<int> _assigned = [];
    private readonly ArrayBufferWriter<byte> _frameBuffer = new(1024);
    private readonly Utf8JsonWriter _frameWriter;
    private StreamSubscription[] _subscribers = [];
    private ConsumeLoop<byte[]?, byte[]>? _loop;
    private volatile bool _failed;

    // Touched only by the loop's thread.
    private long _lastRefresh;
    private Task? _refresh;
    private ErrorCode _lastError = ErrorCode.NoError;

    private readonly StoredEventDecoder _decoder;

    public TopicStreamHub(string topic, StreamHubRegistry registry, KafkaTopicInspector inspector, StoredEventDecoder decoder, ConsumerConfig config, TimeSpan learnTimeout, TimeProvider time, ILogger logger)
    {
        _learnTimeout = learnTimeout;
        Topic = topic;
        _registry = registry;
        _inspector = inspector;
        _decoder = decoder;
        _config = config;
        _time = time;
        _logger = logger;
        _frameWriter = new Utf8JsonWriter(_frameBuffer, FrameWriterOptions);
    }

    public string Topic { get; }

    /// <summary>Completes once the consumer reads the topic; faults (<see cref="TopicNotFoundException"/>, <see cref="KafkaException"/>) when it cannot.</summary>
    public Task Started => _started.Task;

    public bool IsFailed => _failed;

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    internal StreamSubscription[] Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>The timer that stops an idle hub; owned by the registry, under its lock.</summary>
    internal ITimer? IdleTimer { get; set; }

    /// <summary>Starts reading in the background; <see cref="Started"/> tells how it went.</summary>
    public void Start() => _ = StartAsync();

    /// <summary>Under the registry's lock.</summary>
    internal void Add(StreamSubscription subscription) =>
        Volatile.Write(ref _subscribers, [.. _subscribers, subscription]);

    /// <summary>Under the registry's lock.</summary>
    internal void Remove(StreamSubscription subscription) =>
        Volatile.Write(ref _subscribers, [.. _subscribers.Where(s => s != subscription)]);

    /// <summary>
    /// Makes sure these partitions are read; a partition the hub did not know (the topic grew) is
    /// read from its beginning, since all of it was written after the hub started.
    /// </summary>
    public void EnsurePartitions(IEnumerable<int> partitions)
    {
        foreach (var partition in partitions)
        {
            _partitionsToAdd.Enqueue(partition);
        }
    }

    /// <summary>Stops the consumer and waits for its thread to finish. Never throws.</summary>
    public Task StopAsync()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped.
        }

        return _stopped.Task;
    }

    private async Task StartAsync()
    {
        IConsumer<byte[]?, byte[]>? consumer = null;
        try
        {
            var marks = await _inspector.GetWatermarksAsync(Topic, _stop.Token).ConfigureAwait(false)
                ?? throw new TopicNotFoundException(Topic);
            var logger = _logger;
            consumer = new ConsumerBuilder<byte[]?, byte[]>(_config)
                .SetLogHandler((_, m) => KafkaLogging.OnLog(logger, m))
                .SetErrorHandler((_, e) => KafkaLogging.OnError(logger, e))
                .Build();

            LatestEventsReader.LearnTopic(consumer, Topic, marks[0].Partition, _learnTimeout);

            // Explicit offsets, not "end": every subscriber takes its own start offsets after
            // this, so the hub must be at or before them, never after.
            consumer.Assign(marks.Select(m => new TopicPartitionOffset(Topic, m.Partition, m.High)));
            foreach (var mark in marks)
            {
                _assigned.Add(mark.Partition);
            }

            _lastRefresh = _time.GetTimestamp();
            _loop = new ConsumeLoop<byte[]?, byte[]>(consumer, "stream " + Topic, new()
            {
                BeforePoll = BeforePoll,
                OnRecord = Publish,
                OnConsumeError = OnConsumeError,
                OnFailure = OnFailure,
            }, PollInterval);
            _loop.Start(_stop.Token);
            _ = FinishWhenStoppedAsync(_loop);
            LogStarted(_logger, Topic, marks.Length);
            _started.TrySetResult();
        }
        catch (Exception ex)
        {
            _failed = true;
            consumer?.Dispose();
            _frameWriter.Dispose();
            _started.TrySetException(ex);
            _registry.Forget(this);
            _stopped.TrySetResult();
        }
    }

    private void BeforePoll(IConsumer<byte[]?, byte[]> consumer)
    {
        AddNewPartitions(consumer);
        if (_refresh is null or { IsCompleted: true } && _time.GetElapsedTime(_lastRefresh) >= PartitionRefreshInterval)
        {
            _lastRefresh = _time.GetTimestamp();
            _refresh = RefreshPartitionsAsync();
        }
    }

    private void OnConsumeError(ConsumeException ex)
    {
        // Transient (a broker away, a leader moving): librdkafka carries on by itself.
        if (ex.Error.Code != _lastError)
        {
            _lastError = ex.Error.Code;
            LogConsumeError(_logger, Topic, ex.Error.Code, ex.Error.Reason);
        }
    }

    private void Publish(ConsumeResult<byte[]?, byte[]> record)
    {
        if (record.Message.Value is not { } value)
        {
            return;
        }

        _lastError = ErrorCode.NoError;
        if (_decoder.Decode(value) is not { } e)
        {
            return;
        }

        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0)
        {
            return;
        }

        _frameBuffer.ResetWrittenCount();
        _frameWriter.Reset(_frameBuffer);
        StoredEventJsonConverter.Write(_frameWriter, e, record.Partition.Value, record.Offset.Value, "event");
        _frameWriter.Flush();
        var frame = new StreamFrame(record.Partition.Value, record.Offset.Value, e, _frameBuffer.WrittenSpan.ToArray());
        foreach (var subscriber in subscribers)
        {
            subscriber.Offer(frame);
        }
    }

    private void OnFailure(Exception ex)
    {
        _failed = true;
        LogFailed(_logger, ex, Topic);
        _registry.Fail(this);
    }

    private async Task FinishWhenStoppedAsync(ConsumeLoop<byte[]?, byte[]> loop)
    {
        await loop.Completion.ConfigureAwait(false);
        loop.Dispose();
        _frameWriter.Dispose();
        _stop.Dispose();
        LogStopped(_logger, Topic);
        _stopped.TrySetResult();
    }

    private void AddNewPartitions(IConsumer<byte[]?, byte[]> consumer)
    {
        List<TopicPartitionOffset>? added = null;
        while (_partitionsToAdd.TryDequeue(out var partition))
        {
            if (_assigned.Add(partition))
            {
                (added ??= []).Add(new TopicPartitionOffset(Topic, partition, Offset.Beginning));
            }
        }

        if (added is not null)
        {
            consumer.IncrementalAssign(added);
            LogPartitionsAdded(_logger, Topic, added.Count);
        }
    }

    private async Task RefreshPartitionsAsync()
    {
        try
        {
            var partitions = await _inspector.GetPartitionsAsync(Topic, _stop.Token).ConfigureAwait(false);
            if (partitions is not null)
            {
                EnsurePartitions(partitions);
            }
        }
        catch (Exception ex) when (ex is KafkaException or OperationCanceledException or ObjectDisposedException)
        {
            // The next refresh tries again; the partitions already read are not affected.
        }
    }

    [LoggerMessage(EventId = 2311, Level = LogLevel.Information, Message = "Streaming {Topic} to WebSocket subscribers ({Partitions} partitions)")]
    private static partial void LogStarted(ILogger logger, string topic, int partitions);

    [LoggerMessage(EventId = 2312, Level = LogLevel.Information, Message = "Stopped streaming {Topic}: no subscribers left")]
    private static partial void LogStopped(ILogger logger, string topic);

    [LoggerMessage(EventId = 2313, Level = LogLevel.Warning, Message = "Reading {Topic} for WebSocket subscribers: {Error} ({Reason}); retrying")]
    private static partial void LogConsumeError(ILogger logger, string topic, ErrorCode error, string reason);

    [LoggerMessage(EventId = 2314, Level = LogLevel.Error, Message = "Reading {Topic} for WebSocket subscribers failed; its subscribers are closed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(EventId = 2315, Level = LogLevel.Information, Message = "{Topic} has {Count} new partition(s); streaming them from their beginning")]
    private static partial void LogPartitionsAdded(ILogger logger, string topic, int count);
}
