using System.Buffers;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Topics;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Streaming.Runtime;

// Scale-out: a job with keyed windows runs in two stages on one consumer (one group, one loop)
// that reads the source topics and the job's repartition topic. Stage 1 (routing) runs the steps
// before the windows on source records and writes each record to the repartition partitions its
// elements' keys hash to; stage 2 keeps one job instance per repartition partition, so that a
// partition's state moves with the partition. Every partition has its own checkpoint.
public sealed partial class KafkaJobRunner
{
    private const byte WindowTaskStateVersion = 1;
    private const int MaxAppliedMarks = 1 << 20;

    private readonly ScaledRun? _scaled;

    /// <summary>The repartition topic of a scaled-out job with keyed windows, once started (null otherwise).</summary>
    public string? RepartitionTopic => _scaled is { PartitionCount: > 0 } scaled ? scaled.Topic : null;

    /// <summary>The name of a partition's checkpoint in an <see cref="IPartitionedCheckpointStore"/> when scaled out.</summary>
    public static string PartitionCheckpointName(TopicPartition partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        return $"{partition.Topic}-{partition.Partition.Value}";
    }

    /// <summary>The repartition topic's name for a job: <c>{job}-repartition</c>, with characters Kafka refuses replaced by '_'.</summary>
    public static string RepartitionTopicName(string jobName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobName);
        var name = new StringBuilder(jobName.Length + 12);
        foreach (var c in jobName)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }
        return name.Append("-repartition").ToString();
    }

    private void PrepareScaleOut(CancellationToken cancellationToken)
    {
        var scaled = _scaled!;
        // The consumer's handle: its metadata requests never auto-create topics.
        using var admin = new DependentAdminClientBuilder(_loop.Consumer.Handle).Build();
        var sources = new List<SourcePartition>();
        var largest = 0;
        foreach (var topic in _job.SourceTopics)
        {
            var count = PartitionCount(admin, topic)
                ?? throw new InvalidOperationException($"Source topic '{topic}' of job '{_job.Name}' does not exist: scale-out needs every source partition known at start.");
            largest = Math.Max(largest, count);
            sources.AddRange(Enumerable.Range(0, count).Select(p => new SourcePartition(topic, p)));
        }

        scaled.SourcePartitions = sources;
        if (scaled.Topic is null)
        {
            // No keyed state: stage 1 alone, with a checkpoint per source partition.
            RuntimeLog.ScaledOut(_logger, _job.Name, "(none: no keyed windows)", 0);
            return;
        }
        var configured = scaled.Options.RepartitionPartitions;
        if (configured is <= 0)
        {
            throw new InvalidOperationException($"ScaleOut.RepartitionPartitions must be positive, not {configured}.");
        }
        var existing = PartitionCount(admin, scaled.Topic);
        if (existing is null)
        {
            var provisioner = scaled.Options.Topics;
            using var owned = provisioner is null
                ? AdminTopicProvisioner.Create(KafkaClientConfig.ForAdmin(_options.Kafka, $"{_job.Name}-admin", _options.BootstrapServers),
                    _options.MetadataTimeout, _options.MetadataTimeout, NullLogger<AdminTopicProvisioner>.Instance)
                : null;
            var spec = new TopicSpec(scaled.Topic, configured ?? largest, scaled.Options.ReplicationFactor, TopicRole.Internal);
            (provisioner ?? owned!).EnsureTopicAsync(spec, cancellationToken).GetAwaiter().GetResult();
            existing = PartitionCount(admin, scaled.Topic)
                ?? throw new InvalidOperationException($"The repartition topic '{scaled.Topic}' was not found after it was created.");
        }
        if (configured is { } wanted && wanted != existing)
        {
            throw new InvalidOperationException(
                $"The repartition topic '{scaled.Topic}' has {existing} partitions, ScaleOut.RepartitionPartitions says {wanted}: keyed state is split by key hash modulo the count, so it cannot change under a running job.");
        }
        scaled.PartitionCount = existing.Value;
        scaled.Pending = [.. Enumerable.Range(0, scaled.PartitionCount).Select(_ => scaled.Records.NewBatch())];
        scaled.Delivered = [.. Enumerable.Repeat(-1L, scaled.PartitionCount)];
        scaled.NextBroadcastTicks = _clock.GetTimestamp() + Ticks(scaled.Options.WatermarkInterval);
        RuntimeLog.ScaledOut(_logger, _job.Name, scaled.Topic, scaled.PartitionCount);
    }

    private int? PartitionCount(IAdminClient admin, string topic)
    {
        var metadata = admin.GetMetadata(topic, _options.MetadataTimeout);
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        return found is { Error.IsError: false, Partitions.Count: > 0 } ? found.Partitions.Count : null;
    }

    private List<TopicPartitionOffset> OnAssignedScaled(List<TopicPartition> partitions)
    {
        var scaled = _scaled!;
        scaled.Router ??= new JobInstance(_job, new ProducerOutput(this), _options.Watermarks, _loopClock,
            new StagePlan(JobStage.Route, Math.Max(1, scaled.PartitionCount), 0, scaled is { Topic: not null, Options.LocalWhenAlone: true } ? scaled : null), _metrics);
        // librdkafka keeps a partition's pause across a rebalance: one paused here (back-pressure, a
        // drain to go local) and handed back by an eager rebalance would stay paused for good while this
        // bookkeeping said otherwise, and the group's watermark would never pass it. Every assigned
        // partition is resumed before the next poll (ResumeAssigned), so an assignment starts unpaused.
        scaled.SourcesPaused = false;
        scaled.ResumePending = [.. partitions];
        scaled.Local = false;
        scaled.Draining = false;
        var restored = new List<string>();
        var fresh = new List<string>();
        var positions = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            var (offset, fromCheckpoint) = partition.Topic == scaled.Topic
                ? AssignWindowTask(partition.Partition.Value)
                : AssignSource(new SourcePartition(partition.Topic, partition.Partition.Value));
            (fromCheckpoint ? restored : fresh).Add(partition.ToString());
            positions.Add(new TopicPartitionOffset(partition, offset));
        }
        _nextCheckpointTicks = _clock.GetTimestamp() + Ticks(_options.CheckpointInterval);
        RuntimeLog.AssignedScaled(_logger, _job.Name, string.Join(", ", restored), string.Join(", ", fresh));
        return positions;
    }

    private (Offset Offset, bool FromCheckpoint) AssignSource(SourcePartition partition)
    {
        var scaled = _scaled!;
        var task = new SourceTask(scaled.StoreFor(PartitionCheckpointName(new TopicPartition(partition.Topic, partition.Partition))));
        scaled.Sources[partition] = task;
        if (LoadApplicable(task.Store) is { } checkpoint && checkpoint.Offsets.TryGetValue(partition, out var next))
        {
            task.Next = task.SavedNext = next;
            return (new Offset(next), true);
        }
        return (_options.StartFromBeginning ? Offset.Beginning : Offset.End, false);
    }

    private (Offset Offset, bool FromCheckpoint) AssignWindowTask(int partition)
    {
        var scaled = _scaled!;
        var store = scaled.StoreFor(PartitionCheckpointName(new TopicPartition(scaled.Topic!, partition)));
        var task = NewWindowTask(partition, store);
        if (LoadApplicable(store) is { } checkpoint
            && checkpoint.Offsets.TryGetValue(new SourcePartition(scaled.Topic!, partition), out var next))
        {
            try
            {
                RestoreWindowTask(task, checkpoint.State);
                task.Next = task.SavedNext = next;
                task.SavedWatermark = task.Instance.Watermark;
            }
            catch (SnapshotFormatException e)
            {
                SetAside(store, e.Message);
                task = NewWindowTask(partition, store);
            }
        }
        scaled.Tasks[partition] = task;
        // Without a checkpoint a repartition partition is read from its beginning: everything routed
        // to it by this job definition is there (records of other definitions are skipped by tag,
        // records routed twice by a replayed stage 1 are dropped by the applied marks).
        return task.Next >= 0 ? (new Offset(task.Next), true) : (Offset.Beginning, false);
    }

    private WindowTask NewWindowTask(int partition, ICheckpointStore store)
    {
        var scaled = _scaled!;
        var instance = new JobInstance(_job, new ProducerOutput(this), _options.Watermarks, _loopClock,
            new StagePlan(JobStage.Windows, scaled.PartitionCount, partition), _metrics);
        // Every source partition can route here, so each holds this partition's watermark as it
        // would hold a single instance's.
        foreach (var source in scaled.SourcePartitions)
        {
            instance.AddPartition(source);
        }
        return new WindowTask(instance, store);
    }

    private void Drop(IEnumerable<TopicPartition> partitions)
    {
        var scaled = _scaled!;
        scaled.Local = false;
        scaled.Draining = false;
        scaled.ResumePending = null;
        // Nothing routed outlives the assignment it was read under: after a checkpoint nothing is pending,
        // and without one (a failure) the partitions' next owner routes the records again.
        foreach (var batch in scaled.Pending)
        {
            batch.Clear();
        }
        scaled.PendingCount = 0;
        foreach (var partition in partitions)
        {
            if (partition.Topic == scaled.Topic)
            {
                scaled.Tasks.Remove(partition.Partition.Value);
            }
            else
            {
                scaled.Sources.Remove(new SourcePartition(partition.Topic, partition.Partition.Value));
            }
        }
    }

    private void OnRecordScaled(ConsumeResult<byte[]?, byte[]> result)
    {
        ThrowIfDeliveryFailed();
        var scaled = _scaled!;
        var message = result.Message;
        if (result.Topic == scaled.Topic)
        {
            ApplyRouted(scaled, result.Partition.Value, result.Offset.Value, message);
            return;
        }

        var source = new SourcePartition(result.Topic, result.Partition.Value);
        var router = scaled.Router ?? throw new InvalidOperationException("A record arrived with no partition assigned.");
        var record = new SourceRecord(result.Topic, result.Partition.Value, result.Offset.Value, message.Key, message.Value ?? [], message.Timestamp.UnixTimestampMs);
        router.Routes.Clear();
        if (scaled.Local)
        {
            ApplyLocally(scaled, router, source, record);
        }
        else
        {
            router.Process(record);
            foreach (var partition in router.Routes)
            {
                Route(scaled, partition, record);
            }
        }
        if (scaled.Sources.TryGetValue(source, out var task))
        {
            task.Next = result.Offset.Value + 1;
            task.Active = true;
        }
    }

    // Stage 1 with the window tasks in reach: the record's keyed elements went into the tasks'
    // operators during Process (ILocalWindowTasks.Target). What a routed copy would have done on
    // arrival follows here: the task's applied mark, event time and watermark.
    private static void ApplyLocally(ScaledRun scaled, JobInstance router, SourcePartition source, SourceRecord record)
    {
        scaled.BeginRecord(source, record.Offset);
        router.Process(record);
        if (router.Routes.Count == 0 || !router.TryGetMaxEventTime(source, out var max))
        {
            return;
        }
        foreach (var partition in router.Routes)
        {
            if (!scaled.Took(partition))
            {
                continue;
            }
            var task = scaled.TaskAt[partition]!;
            task.Applied[source] = record.Offset;
            task.Dirty = true;
            task.Instance.ObserveUpstream(source, max);
            task.Instance.AdvanceWatermark();
        }
    }

    // Goes local (see ScaleOutOptions.LocalWhenAlone) once this instance owns every partition: it
    // pauses its sources, writes what it has routed, and once every window task has read its
    // repartition partition to the end (a routed record still unread would come after records of its
    // source partition applied locally, and their applied mark would drop it), resumes them locally.
    // A drain that does not finish in time (the end seen by the last fetch not reached) gives up and
    // is tried again later, so the sources are never held for long.
    private void GoLocalWhenReady(IConsumer<byte[]?, byte[]> consumer, long now)
    {
        if (_scaled is not { Local: false, Topic: { } topic, Options.LocalWhenAlone: true } scaled)
        {
            return;
        }
        if (!scaled.Draining)
        {
            if (now < scaled.NextLocalCheckTicks
                || scaled.Tasks.Count != scaled.PartitionCount || scaled.Sources.Count != scaled.SourcePartitions.Count)
            {
                return;
            }
            scaled.NextLocalCheckTicks = now + Ticks(TimeSpan.FromMilliseconds(50));
            ProduceRouted();
            if (!scaled.SourcesPaused)
            {
                consumer.Pause(SourceTopicPartitions(scaled));
                scaled.SourcesPaused = true;
            }
            scaled.Draining = true;
            scaled.DrainDeadlineTicks = now + Ticks(DrainTimeout);
        }
        if (!RepartitionDrained(consumer, scaled, topic, out var ends))
        {
            if (now >= scaled.DrainDeadlineTicks)
            {
                scaled.Draining = false;
                ResumeSources(consumer);
                scaled.NextLocalCheckTicks = now + Ticks(DrainRetry);
                RuntimeLog.LocalDrainTimedOut(_logger, _job.Name, topic, DrainTimeout.TotalSeconds, DrainRetry.TotalSeconds);
            }
            return;
        }
        foreach (var (partition, task) in scaled.Tasks)
        {
            // A task that has read nothing yet (an empty partition) has no offset, and a checkpoint is
            // written only for a task with one: its locally applied state must be saved.
            task.Next = Math.Max(task.Next, ends[partition]);
        }
        scaled.Draining = false;
        scaled.GoLocal();
        LocalSwitches++;
        ResumeSources(consumer);
        RuntimeLog.WentLocal(_logger, _job.Name, topic);
    }

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DrainRetry = TimeSpan.FromSeconds(5);

    // Everything routed is acknowledged, and each window task has read to the end of its partition as
    // the last fetch saw it (no request to the brokers; unknown until a fetch) or as its own writes reached.
    private static bool RepartitionDrained(IConsumer<byte[]?, byte[]> consumer, ScaledRun scaled, string topic, out long[] ends)
    {
        ends = new long[scaled.PartitionCount];
        if (scaled.RoutedProduced != Interlocked.Read(ref scaled.RoutedDelivered))
        {
            return false;
        }
        foreach (var (partition, task) in scaled.Tasks)
        {
            var topicPartition = new TopicPartition(topic, partition);
            var high = consumer.GetWatermarkOffsets(topicPartition).High;
            var position = consumer.Position(topicPartition);
            var next = Math.Max(task.Next, position.IsSpecial ? 0 : position.Value);
            if (high.IsSpecial || next < Math.Max(high.Value, Volatile.Read(ref scaled.Delivered[partition]) + 1))
            {
                return false;
            }
            ends[partition] = next;
        }
        return true;
    }

    // Routed records wait in one batch per repartition partition: one Kafka record per batch, not per
    // source record, is what the client, the broker and stage 2's consumer pay for (README, processor).
    private void Route(ScaledRun scaled, int partition, SourceRecord record)
    {
        var batch = scaled.Pending[partition];
        // A record that would take the batch past its size goes into the next one (alone if it is that large).
        if (batch.Count > 0 && batch.Length + record.Value.Length + (record.Key?.Length ?? 0) > scaled.Options.RouteBatchBytes)
        {
            ProduceBatch(scaled, partition);
        }
        if (scaled.PendingCount == 0)
        {
            scaled.OldestPendingTicks = _loopClock.GetTimestamp();
        }
        if (batch.Count == 0)
        {
            scaled.PendingCount++;
        }
        scaled.Records.Append(batch, record);
    }

    private void ProduceBatch(ScaledRun scaled, int partition)
    {
        ProduceRouted(scaled, partition, scaled.Records.TakeBatch(scaled.Pending[partition]));
        scaled.PendingCount--;
    }

    private void ProduceRouted(ScaledRun scaled, int partition, Message<byte[]?, byte[]> message)
    {
        scaled.RoutedProduced++;
        Produce(new TopicPartition(scaled.Topic, partition), message);
    }

    /// <summary>Writes every pending batch: before a watermark (which must follow them), a checkpoint, or when they have waited their linger.</summary>
    private void ProduceRouted()
    {
        if (_scaled is not { PendingCount: > 0 } scaled)
        {
            return;
        }
        for (var partition = 0; partition < scaled.Pending.Length && scaled.PendingCount > 0; partition++)
        {
            if (scaled.Pending[partition].Count > 0)
            {
                ProduceBatch(scaled, partition);
            }
        }
    }

    private void ProduceRoutedWhenDue(long now)
    {
        if (_scaled is { PendingCount: > 0 } scaled && now - scaled.OldestPendingTicks >= Ticks(scaled.Options.RouteBatchLinger))
        {
            ProduceRouted();
        }
    }

    /// <summary>Times this instance went local: owning every partition, it skipped the repartition hop (see <see cref="ScaleOutOptions.LocalWhenAlone"/>).</summary>
    public int LocalSwitches { get; private set; }

    /// <summary>Times the source partitions were paused because the window stage lagged (see <see cref="ScaleOutOptions.MaxRepartitionLag"/>).</summary>
    public int SourcePauses { get; private set; }

    // Pauses this instance's source partitions while one of its repartition partitions is more than
    // MaxRepartitionLag records behind its end, and resumes them at a quarter of it, or as soon as a
    // poll finds nothing to read. Both offsets come from the consumer's own fetch state: no request to
    // the brokers.
    private void ApplyBackPressure(IConsumer<byte[]?, byte[]> consumer, long now)
    {
        if (_scaled is not { Topic: { } topic } scaled || now < scaled.NextLagCheckTicks)
        {
            return;
        }
        scaled.NextLagCheckTicks = now + Ticks(TimeSpan.FromMilliseconds(10));
        long lag = 0;
        foreach (var (partition, task) in scaled.Tasks)
        {
            // The end is what the last fetch saw or what this instance's own writes reached, whichever is
            // further: the fetched end lags behind when the window stage is slow to fetch, just when it matters.
            var topicPartition = new TopicPartition(topic, partition);
            var high = consumer.GetWatermarkOffsets(topicPartition).High;
            var end = Math.Max(high.IsSpecial ? 0 : high.Value, Volatile.Read(ref scaled.Delivered[partition]) + 1);
            // The end counts the commit marker after each transaction's records. The consumer's position
            // passes the markers it has fetched (TransactionMarkerTests); the next record's offset never does.
            var position = consumer.Position(topicPartition);
            var next = Math.Max(0, Math.Max(task.Next, position.IsSpecial ? 0 : position.Value));
            lag = Math.Max(lag, end - next);
        }
        var bound = Math.Max(1, scaled.Options.MaxRepartitionLag);
        if (!scaled.SourcesPaused && lag > bound && scaled.Sources.Count > 0)
        {
            ProduceRouted();
            consumer.Pause(SourceTopicPartitions(scaled));
            scaled.SourcesPaused = true;
            SourcePauses++;
        }
        else if (scaled.SourcesPaused && lag <= bound / 4)
        {
            ResumeSources(consumer);
        }
    }

    // After an assignment, before the next poll: the partitions may come back paused from an earlier one.
    private static void ResumeAssigned(IConsumer<byte[]?, byte[]> consumer, ScaledRun scaled)
    {
        if (scaled.ResumePending is { } assigned)
        {
            scaled.ResumePending = null;
            consumer.Resume(assigned);
        }
    }

    private static IEnumerable<TopicPartition> SourceTopicPartitions(ScaledRun scaled) =>
        scaled.Sources.Keys.Select(s => new TopicPartition(s.Topic, s.Partition));

    // Also when a poll finds nothing: the window stage has read all there is, whatever the offsets say.
    // A marker that arrives alone in a fetch may not move the position, and a lag stuck above a quarter
    // of a small bound would keep every instance paused for good (seen with a bound of 1 or 2).
    private void ResumeSources(IConsumer<byte[]?, byte[]> consumer)
    {
        // A drain to go local holds them until it ends.
        if (_scaled is { SourcesPaused: true, Draining: false } scaled)
        {
            consumer.Resume(SourceTopicPartitions(scaled));
            scaled.SourcesPaused = false;
        }
    }

    // On the producer's delivery thread.
    private void OnRepartitionDelivered(TopicPartitionOffset delivered)
    {
        if (_scaled is not { Topic: { } topic } scaled || delivered.Topic != topic || delivered.Offset.IsSpecial
            || (uint)delivered.Partition.Value >= (uint)scaled.Delivered.Length)
        {
            return;
        }
        Interlocked.Increment(ref scaled.RoutedDelivered);
        ref var highest = ref scaled.Delivered[delivered.Partition.Value];
        var offset = delivered.Offset.Value;
        var seen = Volatile.Read(ref highest);
        while (offset > seen)
        {
            var previous = Interlocked.CompareExchange(ref highest, offset, seen);
            if (previous == seen)
            {
                break;
            }
            seen = previous;
        }
    }

    private void ApplyRouted(ScaledRun scaled, int partition, long offset, Message<byte[]?, byte[]> message)
    {
        var task = scaled.Tasks[partition];
        task.Next = offset + 1;
        switch (scaled.Records.TryRead(message, out var routed))
        {
            case RepartitionRecords.ReadOutcome.Foreign:
                return;
            case RepartitionRecords.ReadOutcome.UnknownFormat:
                // Written by a later version, or forged: applying it by guess could corrupt state, so
                // it is skipped and said once per partition assignment.
                if (task.UnknownFormat++ == 0)
                {
                    RuntimeLog.UnknownRepartitionFormat(_logger, _job.Name, scaled.Topic!, partition, offset);
                }
                return;
        }
        if (routed.Watermarks is { } watermarks)
        {
            foreach (var (source, max) in watermarks)
            {
                task.Instance.ObserveUpstream(source, max);
            }
        }
        else if (routed.Batch is { } batch)
        {
            // Each record as if it had come alone: the same marks, and the watermark advanced after each.
            foreach (var item in batch)
            {
                if (!task.HasApplied(item.Source, item.Offset))
                {
                    Apply(task, item.ToRecord(routed.BatchBytes!));
                    task.Instance.AdvanceWatermark();
                }
            }
            return;
        }
        else
        {
            if (task.HasApplied(routed.Source, routed.Offset))
            {
                return;
            }
            Apply(task, new SourceRecord(routed.Source.Topic, routed.Source.Partition, routed.Offset, message.Key, message.Value ?? [], routed.Timestamp));
        }
        task.Instance.AdvanceWatermark();
    }

    private static void Apply(WindowTask task, SourceRecord record)
    {
        task.Instance.Process(record);
        task.Applied[new SourcePartition(record.Topic, record.Partition)] = record.Offset;
    }

    private void BroadcastWatermarksWhenDue(long now)
    {
        var scaled = _scaled!;
        if (now < scaled.NextBroadcastTicks)
        {
            return;
        }
        BroadcastWatermarks();
        scaled.NextBroadcastTicks = _clock.GetTimestamp() + Ticks(scaled.Options.WatermarkInterval);
    }

    // Flink's watermark propagation: each routing task tells every downstream partition how far its
    // source partitions have come; a window task's watermark is the minimum over all source partitions.
    // Sent only for partitions read since the last time, so a quiet source partition can go idle downstream.
    private void BroadcastWatermarks()
    {
        var scaled = _scaled!;
        if (scaled.Router is not { } router)
        {
            return;
        }
        if (scaled.Topic is null)
        {
            return;
        }
        // A watermark follows, in each partition, every record routed before it.
        ProduceRouted();
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var watermarks = new List<(SourcePartition, long)>();
        foreach (var (source, task) in scaled.Sources.OrderBy(s => s.Key.Topic, StringComparer.Ordinal).ThenBy(s => s.Key.Partition))
        {
            if (!task.Active || !router.TryGetMaxEventTime(source, out var max))
            {
                continue;
            }
            task.Active = false;
            watermarks.Add((source, max));
        }
        if (watermarks.Count == 0)
        {
            return;
        }
        if (scaled.Local)
        {
            // The window tasks also see each source partition's event time with every record applied
            // locally; this keeps the ones no record reached from going idle.
            foreach (var task in scaled.Tasks.Values)
            {
                foreach (var (source, max) in watermarks)
                {
                    task.Instance.ObserveUpstream(source, max);
                }
                task.Instance.AdvanceWatermark();
            }
            return;
        }
        // One record per repartition partition for all of them: it follows, in each partition, every
        // record routed from them so far, which is all the ordering argument needs.
        var message = scaled.Records.Watermarks(watermarks, now);
        for (var partition = 0; partition < scaled.PartitionCount; partition++)
        {
            ProduceRouted(scaled, partition, message);
        }
    }

    private long? CheckpointScaled(IConsumer<byte[]?, byte[]> consumer)
    {
        var scaled = _scaled!;
        // A source partition's checkpoint must not pass a watermark still unsent: its next owner
        // would never send it if no record follows.
        BroadcastWatermarks();
        var commits = new List<TopicPartitionOffset>();
        foreach (var (source, task) in scaled.Sources)
        {
            if (task.Next >= 0)
            {
                commits.Add(new TopicPartitionOffset(source.Topic, source.Partition, task.Next));
            }
        }
        foreach (var (partition, task) in scaled.Tasks)
        {
            if (task.Next >= 0)
            {
                commits.Add(new TopicPartitionOffset(scaled.Topic, partition, task.Next));
            }
        }
        // Every routed record, watermark and result so far acknowledged (or committed) before any save.
        CommitOutputs(consumer, commits);
        var now = _clock.GetUtcNow();
        // Window tasks before source partitions: records applied locally are in no topic, so a crash
        // between the two must leave the tasks ahead (their applied marks drop what the sources read
        // again), never the sources ahead of what the tasks hold.
        long stateBytes = 0;
        foreach (var (partition, task) in scaled.Tasks)
        {
            // Idleness can fire windows without a record: a moved watermark is a changed state.
            if (task.Next >= 0 && (task.Next != task.SavedNext || task.Dirty || task.Instance.Watermark != task.SavedWatermark))
            {
                var state = WriteWindowTask(task);
                task.Store.Save(new Checkpoint(ClusterId!, _job.Name, _fingerprint, now,
                    new Dictionary<SourcePartition, long> { [new SourcePartition(scaled.Topic!, partition)] = task.Next }, state));
                task.SavedNext = task.Next;
                task.SavedWatermark = task.Instance.Watermark;
                task.SavedBytes = state.Length;
                task.Dirty = false;
            }
            stateBytes += task.SavedBytes;
        }
        foreach (var (source, task) in scaled.Sources)
        {
            if (task.Next >= 0 && task.Next != task.SavedNext)
            {
                task.Store.Save(new Checkpoint(ClusterId!, _job.Name, _fingerprint, now, new Dictionary<SourcePartition, long> { [source] = task.Next }, []));
                task.SavedNext = task.Next;
            }
        }
        CheckpointsWritten++;
        _nextCheckpointTicks = _clock.GetTimestamp() + Ticks(_options.CheckpointInterval);
        RuntimeLog.CheckpointWritten(_logger, _job.Name, CheckpointsWritten, string.Join(", ", commits.Select(c => $"{c.TopicPartition}@{c.Offset.Value}")));
        if (commits.Count > 0)
        {
            CommitForLag(consumer, commits);
        }
        return stateBytes;
    }

    // A window task's state: a version byte, the applied mark per source partition, then the job instance's state.
    private static byte[] WriteWindowTask(WindowTask task)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(buffer);
        writer.WriteByte(WindowTaskStateVersion);
        writer.WriteInt32(task.Applied.Count);
        foreach (var (source, offset) in task.Applied.OrderBy(a => a.Key.Topic, StringComparer.Ordinal).ThenBy(a => a.Key.Partition))
        {
            writer.WriteString(source.Topic);
            writer.WriteInt32(source.Partition);
            writer.WriteInt64(offset);
        }
        writer.WriteBytes(task.Instance.WriteState());
        return buffer.WrittenSpan.ToArray();
    }

    private static void RestoreWindowTask(WindowTask task, byte[] state)
    {
        var reader = new SnapshotReader(state);
        reader.ExpectVersion(WindowTaskStateVersion, "window task");
        var count = reader.ReadCount(MaxAppliedMarks, bytesPerItem: 16);
        var applied = new Dictionary<SourcePartition, long>(count);
        for (var i = 0; i < count; i++)
        {
            var source = new SourcePartition(reader.ReadString(), reader.ReadInt32());
            var offset = reader.ReadInt64();
            reader.Check(source.Partition >= 0 && offset >= 0 && applied.TryAdd(source, offset), "a bad or repeated applied mark");
        }
        var instance = reader.ReadBytes(int.MaxValue).ToArray();
        reader.ExpectEnd();
        task.Instance.RestoreState(instance);
        foreach (var (source, offset) in applied)
        {
            task.Applied[source] = offset;
        }
    }

    private sealed class ScaledRun(ScaleOutOptions options, IPartitionedCheckpointStore store, string? topic, RepartitionRecords records) : ILocalWindowTasks
    {
        private readonly Dictionary<string, ICheckpointStore> _stores = new(StringComparer.Ordinal);
        private SourcePartition _source;
        private long _offset;
        private int _record;
        private int[] _checkedAt = [];
        private bool[] _takes = [];

        /// <summary>Stage 1 delivers keyed elements to the window tasks in memory (see <see cref="ScaleOutOptions.LocalWhenAlone"/>); false after every rebalance.</summary>
        public bool Local { get; set; }

        public long NextLocalCheckTicks { get; set; }

        /// <summary>Sources paused until the window tasks have read everything routed, to go local.</summary>
        public bool Draining { get; set; }

        public long DrainDeadlineTicks { get; set; }

        /// <summary>While <see cref="Local"/>, the window task of each repartition partition.</summary>
        public WindowTask?[] TaskAt { get; private set; } = [];

        /// <summary>Records written to the repartition topic (loop thread) and acknowledged (delivery thread).</summary>
        public long RoutedProduced;

        public long RoutedDelivered;

        public void GoLocal()
        {
            TaskAt = new WindowTask?[PartitionCount];
            foreach (var (partition, task) in Tasks)
            {
                TaskAt[partition] = task;
            }
            _checkedAt = new int[PartitionCount];
            _takes = new bool[PartitionCount];
            Local = true;
        }

        /// <summary>The source record that stage 1 is about to process locally.</summary>
        public void BeginRecord(SourcePartition source, long offset)
        {
            _source = source;
            _offset = offset;
            // Never 0 (the arrays' initial value) after wrapping.
            _record = _record == int.MaxValue ? 1 : _record + 1;
        }

        /// <summary>Whether the current record's elements for <paramref name="partition"/> went into its task.</summary>
        public bool Took(int partition) => _checkedAt[partition] == _record && _takes[partition];

        public JobInstance? Target(int partition)
        {
            if (!Local)
            {
                return null;
            }
            // Decided once per record and partition (several windows read one keyed stream).
            if (_checkedAt[partition] != _record)
            {
                _checkedAt[partition] = _record;
                _takes[partition] = !TaskAt[partition]!.HasApplied(_source, _offset);
            }
            return _takes[partition] ? TaskAt[partition]!.Instance : null;
        }

        public ScaleOutOptions Options { get; } = options;

        /// <summary>The repartition topic; null for a job without keyed windows (stage 1 only).</summary>
        public string? Topic { get; } = topic;

        /// <summary>Writes and reads the repartition topic's records, tagged with this definition's fingerprint.</summary>
        public RepartitionRecords Records { get; } = records;

        public int PartitionCount { get; set; }

        public IReadOnlyList<SourcePartition> SourcePartitions { get; set; } = [];

        public long NextBroadcastTicks { get; set; }

        public long NextLagCheckTicks { get; set; }

        /// <summary>Per repartition partition, the highest offset this instance's writes were acknowledged at (-1: none); set on the delivery thread.</summary>
        public long[] Delivered = [];

        /// <summary>The source partitions are paused for back-pressure or a drain (a new assignment starts unpaused).</summary>
        public bool SourcesPaused { get; set; }

        /// <summary>Partitions just assigned, to resume before the next poll (librdkafka keeps a pause across a rebalance).</summary>
        public List<TopicPartition>? ResumePending { get; set; }

        /// <summary>Per repartition partition, the routed records not yet written.</summary>
        public RepartitionRecords.PendingBatch[] Pending { get; set; } = [];

        /// <summary>Batches in <see cref="Pending"/> with records in them.</summary>
        public int PendingCount { get; set; }

        /// <summary>When the oldest pending batch got its first record.</summary>
        public long OldestPendingTicks { get; set; }

        /// <summary>Stage 1: stateless, one for every source partition assigned.</summary>
        public JobInstance? Router { get; set; }

        public Dictionary<SourcePartition, SourceTask> Sources { get; } = [];

        public SortedDictionary<int, WindowTask> Tasks { get; } = [];

        public ICheckpointStore StoreFor(string name)
        {
            if (!_stores.TryGetValue(name, out var partitionStore))
            {
                partitionStore = store.Partition(name);
                _stores[name] = partitionStore;
            }
            return partitionStore;
        }
    }

    private sealed class SourceTask(ICheckpointStore store)
    {
        public ICheckpointStore Store { get; } = store;

        /// <summary>The next offset to read; -1 until known.</summary>
        public long Next { get; set; } = -1;

        public long SavedNext { get; set; } = -1;

        /// <summary>Read since the last watermark broadcast.</summary>
        public bool Active { get; set; }
    }

    private sealed class WindowTask(JobInstance instance, ICheckpointStore store)
    {
        public JobInstance Instance { get; } = instance;

        public ICheckpointStore Store { get; } = store;

        /// <summary>The highest source offset applied per source partition (the dedupe marks).</summary>
        public Dictionary<SourcePartition, long> Applied { get; } = [];

        /// <summary>Changed by records applied locally since the last checkpoint (they move no offset of its own).</summary>
        public bool Dirty { get; set; }

        // A replayed stage 1 writes the same records again in the same order, and the local path reads
        // them in that order too: records of one source partition arrive here in offset order, so one
        // mark per source partition is exact.
        public bool HasApplied(SourcePartition source, long offset) => Applied.TryGetValue(source, out var mark) && offset <= mark;

        public long Next { get; set; } = -1;

        public long SavedNext { get; set; } = -1;

        public long SavedWatermark { get; set; } = long.MinValue;

        public long SavedBytes { get; set; }

        /// <summary>Records skipped as unreadable (a later format, or forged or corrupt).</summary>
        public long UnknownFormat { get; set; }
    }
}
