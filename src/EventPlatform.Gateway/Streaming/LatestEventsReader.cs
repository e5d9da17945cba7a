using System.Collections.Concurrent;
using Confluent.Kafka;
using EventPlatform.Core.Events;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// Reads the most recent events of a topic from Kafka itself (Property 12), so the answer covers
/// what every gateway instance and any other producer wrote.
/// </summary>
/// <remarks>
/// <para>
/// What "most recent" means: the candidates are the last <c>limit</c> events of each partition
/// (by offset: the most recently written); the answer is the <c>limit</c> newest of those by the
/// events' own <c>timestamp</c>, newest first, ties broken by partition (ascending) then offset
/// (descending). When event time grows with write order inside each partition, as it does for
/// live traffic, this is exactly the newest <c>limit</c> events of the whole topic; when a
/// partition holds no more than <c>limit</c> records, it is exact in any case.
/// </para>
/// <para>
/// Records that are not valid events (another producer's garbage, tombstones) are skipped, and
/// reading goes further back in that partition to make up for them, up to
/// <see cref="ScanFactor"/> × <c>limit</c> records per partition.
/// </para>
/// <para>
/// Confluent consumers are not thread-safe and are heavy to create, so a small pool of them
/// (<see cref="StreamingOptions.LatestReaders"/>) is kept, each used by one request at a time,
/// without a consumer group (explicit <c>Assign</c> with offsets, nothing committed). This class
/// is thread-safe.
/// </para>
/// </remarks>
public sealed partial class LatestEventsReader : IDisposable
{
    /// <summary>How far back, in multiples of the limit, a partition is read to make up for records that are not events.</summary>
    public const int ScanFactor = 4;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly KafkaTopicInspector _inspector;
    private readonly StreamingOptions _options;
    private readonly ConsumerConfig _config;
    private readonly ILogger<LatestEventsReader> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<Reader> _idle = [];
    private volatile bool _disposed;

    private readonly StoredEventDecoder _decoder;

    public LatestEventsReader(KafkaTopicInspector inspector, StoredEventDecoder decoder, IOptions<KafkaOptions> kafka, IOptions<StreamingOptions> options, ILogger<LatestEventsReader> logger)
    {
        _inspector = inspector;
        _decoder = decoder;
        _options = options.Value;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.LatestReaders, _options.LatestReaders);
        _config = ReaderConfig(kafka.Value, _options, GatewayServiceCollectionExtensions.KafkaClientId + "-latest", enablePartitionEof: true);
    }

    /// <summary>
    /// The newest <paramref name="limit"/> events of <paramref name="topic"/> (see the remarks), or
    /// null when the topic does not exist.
    /// </summary>
    /// <exception cref="KafkaException">The cluster did not answer.</exception>
    /// <exception cref="TimeoutException">Reading took longer than <see cref="StreamingOptions.LatestTimeout"/>.</exception>
    public async Task<IReadOnlyList<StoredEvent>?> ReadAsync(string topic, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.LatestTimeout);
        try
        {
            var marks = await _inspector.GetWatermarksAsync(topic, deadline.Token).ConfigureAwait(false);
            if (marks is null)
            {
                return null;
            }

            if (marks.All(m => m.High <= m.Low))
            {
                return [];
            }

            await _slots.WaitAsync(deadline.Token).ConfigureAwait(false);
            try
            {
                var reader = Rent();
                var reusable = false;
                try
                {
                    var events = await Task.Run(() => ReadTails(reader, topic, marks, limit, deadline.Token), deadline.Token).ConfigureAwait(false);
                    reusable = true;
                    return events;
                }
                finally
                {
                    Return(reader, reusable);
                }
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Reading the latest events of '{topic}' took longer than {_options.LatestTimeout}.");
        }
    }

    /// <summary>Orders events newest first by event time; ties by partition (ascending), then offset (descending).</summary>
    public static int NewestFirst(StoredEvent a, StoredEvent b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var byTime = b.Event.Timestamp.CompareTo(a.Event.Timestamp);
        if (byTime != 0)
        {
            return byTime;
        }

        var byPartition = a.Partition.CompareTo(b.Partition);
        return byPartition != 0 ? byPartition : b.Offset.CompareTo(a.Offset);
    }

    /// <summary>The consumer settings of the gateway's readers: assign-only, nothing committed, fetches answered quickly.</summary>
    internal static ConsumerConfig ReaderConfig(KafkaOptions kafka, StreamingOptions streaming, string clientId, bool enablePartitionEof)
    {
        // A group id is required by the client library; no group is ever joined (Assign only).
        var config = KafkaClientConfig.ForConsumer(kafka, clientId, kafka.BootstrapServers!, clientId);
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = enablePartitionEof;
        config.AllowAutoCreateTopics = false;
        config.FetchMinBytes = 1;
        config.FetchWaitMaxMs = streaming.FetchWaitMaxMs;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        return config;
    }

    /// <summary>
    /// Makes the consumer learn the topic's partition leaders now. Without it, librdkafka asks for
    /// the metadata of a topic it has not seen only on its next topic scan, up to a second later.
    /// </summary>
    internal static void LearnTopic(IConsumer<byte[]?, byte[]> consumer, string topic, int partition, TimeSpan timeout) =>
        consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), timeout);

    private List<StoredEvent> ReadTails(Reader reader, string topic, PartitionWatermarks[] marks, int limit, CancellationToken cancellationToken)
    {
        var consumer = reader.Consumer;
        if (reader.Learn(topic))
        {
            LearnTopic(consumer, topic, marks[0].Partition, _options.LatestTimeout);
        }

        var maxScan = (long)limit * ScanFactor;
        var tails = marks.Where(m => m.High > m.Low).Select(m => new Tail(m.Partition, m.Low, m.High)).ToList();
        try
        {
            while (true)
            {
                // Each round reads, per partition, just enough older records to make up the events still missing.
                var round = tails.Where(t => t.Events.Count < limit && t.End > t.Low && t.Scanned < maxScan).ToDictionary(t => t.Partition);
                if (round.Count == 0)
                {
                    break;
                }

                foreach (var tail in round.Values)
                {
                    tail.Start = Math.Max(tail.Low, tail.End - Math.Min(limit - tail.Events.Count, maxScan - tail.Scanned));
                }

                consumer.Assign(round.Values.Select(t => new TopicPartitionOffset(topic, t.Partition, t.Start)));
                var open = round.Count;
                while (open > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var record = consumer.Consume(PollInterval);
                    if (record is null || !round.TryGetValue(record.Partition.Value, out var tail) || tail.RoundDone)
                    {
                        continue;
                    }

                    var offset = record.Offset.Value;
                    if (!record.IsPartitionEOF && offset < tail.End && record.Message.Value is { } value
                        && _decoder.Decode(value) is { } e)
                    {
                        tail.Events.Add(new StoredEvent(e, tail.Partition, offset));
                    }

                    // The end of the partition, or the last record of the window (or past it: control
                    // records of transactions take offsets but are never delivered).
                    if (record.IsPartitionEOF || offset >= tail.End - 1)
                    {
                        tail.FinishRound();
                        open--;
                    }
                }

                foreach (var tail in round.Values)
                {
                    tail.RoundDone = false;
                }
            }
        }
        finally
        {
            consumer.Unassign();
        }

        var all = tails.SelectMany(t => t.Events).ToList();
        all.Sort(NewestFirst);
        if (all.Count > limit)
        {
            all.RemoveRange(limit, all.Count - limit);
        }

        var skipped = tails.Sum(t => t.Scanned) - tails.Sum(t => t.Events.Count);
        if (skipped > 0)
        {
            LogSkipped(_logger, skipped, topic);
        }

        return all;
    }

    private Reader Rent()
    {
        if (_idle.TryTake(out var reader))
        {
            return reader;
        }

        var logger = _logger;
        return new Reader(new ConsumerBuilder<byte[]?, byte[]>(_config)
            .SetLogHandler((_, m) => KafkaLogging.OnLog(logger, m))
            .SetErrorHandler((_, e) => KafkaLogging.OnError(logger, e))
            .Build());
    }

    private void Return(Reader reader, bool reusable)
    {
        if (reusable && !_disposed)
        {
            _idle.Add(reader);
            return;
        }

        // A consumer that failed mid-read may hold an assignment in an unknown state: start afresh.
        reader.Consumer.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var reader))
        {
            reader.Consumer.Dispose();
        }

        _slots.Dispose();
    }

    /// <summary>A pooled consumer and the topics it already knows.</summary>
    private sealed class Reader(IConsumer<byte[]?, byte[]> consumer)
    {
        private const int MaxKnownTopics = 10_000;
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);

        public IConsumer<byte[]?, byte[]> Consumer { get; } = consumer;

        /// <summary>True the first time a topic is seen (then it must be learnt).</summary>
        public bool Learn(string topic)
        {
            if (_known.Count >= MaxKnownTopics)
            {
                _known.Clear();
            }

            return _known.Add(topic);
        }
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Debug, Message = "Skipped {Count} records of {Topic} that are not events while reading the latest events")]
    private static partial void LogSkipped(ILogger logger, long count, string topic);

    /// <summary>The part of one partition read so far, walking back from its high watermark.</summary>
    private sealed class Tail(int partition, long low, long high)
    {
        public int Partition { get; } = partition;

        public long Low { get; } = low;

        /// <summary>Offsets at or after this were read (exclusive end of the next window).</summary>
        public long End { get; private set; } = high;

        /// <summary>Where the current window starts.</summary>
        public long Start { get; set; }

        public long Scanned { get; private set; }

        public bool RoundDone { get; set; }

        public List<StoredEvent> Events { get; } = [];

        public void FinishRound()
        {
            RoundDone = true;
            Scanned += End - Start;
            End = Start;
        }
    }
}
