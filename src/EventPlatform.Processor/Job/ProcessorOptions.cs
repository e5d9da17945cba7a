using System.ComponentModel.DataAnnotations;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Processor.Job;

/// <summary>
/// The default job's settings, bound from <c>Processor:*</c> and validated at start. Defaults are
/// the seed's: tumbling windows of 1, 5 and 15 minutes and a 5-minute window sliding by 1 minute per
/// event type, 30-minute sessions per user, 10 s of out-of-orderness, 3 retries from a 1 s base delay.
/// </summary>
public sealed class ProcessorOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Processor";

    /// <summary>The health and metrics listener (the worker host reads it): port 8082, beside the registry's 8081 and Connect's 8083.</summary>
    public string? Urls { get; set; }

    /// <summary>The job's name: its consumer group and the name of its checkpoints.</summary>
    [Required]
    public string JobName { get; set; } = "default-job";

    /// <summary>The event topics to read; by default the plan's three ingest topics.</summary>
    public string[]? SourceTopics { get; set; }

    /// <summary>The windows; null or empty means <see cref="DefaultWindows"/>.</summary>
    public List<WindowSettings>? Windows { get; set; }

    /// <summary>How far behind the newest timestamp a record may come and still be on time (seed: 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxOutOfOrderness { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A partition silent this long (processing time) stops holding the watermark back; null: never.</summary>
    public TimeSpan? IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>When every partition is silent this long, event time follows the wall clock, so the last windows close; null: never.</summary>
    public TimeSpan? StreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>What happens to a record whose window has fired: Drop, SideOutput (to the DLQ as LATE_EVENT) or Update.</summary>
    public LateDataKind LatePolicy { get; set; } = LateDataKind.Update;

    /// <summary>Under <see cref="LateDataKind.Update"/>: how long after firing a window still takes late records (later ones go to the DLQ).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How distinct users are counted: exact (a set per window) or HyperLogLog (bounded memory).</summary>
    public DistinctUsersMode DistinctUsers { get; set; } = DistinctUsersMode.Exact;

    /// <summary>The HyperLogLog precision when <see cref="DistinctUsers"/> is HyperLogLog (error ≈ 1.04/√2^p).</summary>
    [Range(4, 18)]
    public int HyperLogLogPrecision { get; set; } = 14;

    /// <summary>How often offsets and window state are checkpointed; output since the last one is replayed after a crash.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The job producer's <c>linger.ms</c> (Kafka Streams' default, 100 ms); <c>Kafka:Producer:LingerMs</c>
    /// stays the gateway's. Results wait at most this long more before they are sent.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:05")]
    public TimeSpan ProducerLinger { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Run with the engine's scale-out (on by default): several <c>processor</c> instances of one job
    /// name share the work, keyed windows reached through the repartition topic <c>{job}-repartition</c>.
    /// Off: one instance per job only (keyed state is not split by partition), one hop less. The two
    /// modes keep different checkpoints: switching restarts the job from the input's beginning (its
    /// results are written again under the same keys).
    /// </summary>
    public bool ScaleOut { get; set; } = true;

    /// <summary>
    /// Partitions of the repartition topic (the most instances the window stage spreads over) when
    /// the processor creates it; null: the topic's count if it exists, else the largest source topic's.
    /// It cannot change under a job with state.
    /// </summary>
    [Range(1, 10_000)]
    public int? RepartitionPartitions { get; set; }

    /// <summary>
    /// Under scale-out, the source partitions pause while a repartition partition this instance reads is
    /// more than this many records behind (see <c>ScaleOutOptions.MaxRepartitionLag</c>): the embedded
    /// broker keeps about 5 MB per partition, and a reader further behind loses records.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxRepartitionLag { get; set; } = new ScaleOutOptions().MaxRepartitionLag;

    /// <summary>
    /// Under scale-out, an instance that owns every partition skips the repartition topic and hands events
    /// to its windows in memory (see <c>ScaleOutOptions.LocalWhenAlone</c>); false: always through the topic.
    /// </summary>
    public bool LocalWhenAlone { get; set; } = new ScaleOutOptions().LocalWhenAlone;

    /// <summary>Where checkpoints are kept; by default the platform's data directory.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The checkpoint store: <see cref="ProcessorCheckpointStore.DataDirectory"/> (default: atomic and
    /// crash-safe files; instances share it only on one machine) or <see cref="ProcessorCheckpointStore.Kafka"/>
    /// (records of a compacted topic every instance on every machine reaches; durable on acks=all; see
    /// the engine's README for what each guarantees).
    /// </summary>
    public ProcessorCheckpointStore CheckpointStore { get; set; } = ProcessorCheckpointStore.DataDirectory;

    /// <summary>The compacted topic of the Kafka checkpoint store; <c>{job}-checkpoints</c> when null.</summary>
    public string? CheckpointTopic { get; set; }

    /// <summary>How many times a record whose processing throws is retried before it goes to the DLQ (seed: MAX_RETRIES = 3).</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The backoff's base delay (seed: 1 s): delay = min(base · 2^attempt, max) + up to 10 % jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The backoff's largest delay (seed: 60 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long the job waits in place for an unreachable registry before it stops and restarts from
    /// its checkpoint; good records are never sent to the DLQ for an outage. Below Kafka's
    /// <c>max.poll.interval.ms</c> (5 min), so the consumer keeps its partitions while it waits.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:04:00")]
    public TimeSpan RegistryOutagePatience { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The job thread's nice value on Linux, 0 (the process's priority, the default) to 19. <c>up</c> sets
    /// 10, so that on a machine shared with the gateway the job takes the CPU the gateway leaves.
    /// </summary>
    [Range(0, Kafka.Consuming.ThreadNiceness.Lowest)]
    public int ThreadNiceness { get; set; }

    /// <summary>The seed's windows.</summary>
    public static IReadOnlyList<WindowSettings> DefaultWindows { get; } =
    [
        new() { Kind = WindowKind.Tumbling, Size = TimeSpan.FromMinutes(1) },
        new() { Kind = WindowKind.Tumbling, Size = TimeSpan.FromMinutes(5) },
        new() { Kind = WindowKind.Tumbling, Size = TimeSpan.FromMinutes(15) },
        new() { Kind = WindowKind.Sliding, Size = TimeSpan.FromMinutes(5), Slide = TimeSpan.FromMinutes(1) },
        new() { Kind = WindowKind.Session, Size = TimeSpan.FromMinutes(30), PerUser = true },
    ];

    /// <summary>The windows in effect.</summary>
    public IReadOnlyList<WindowSettings> EffectiveWindows => Windows is { Count: > 0 } w ? w : DefaultWindows;

    /// <summary>The late-data policy in effect.</summary>
    public LateDataPolicy EffectiveLatePolicy => LatePolicy switch
    {
        LateDataKind.Drop => LateDataPolicy.Drop,
        LateDataKind.SideOutput => LateDataPolicy.SideOutput,
        _ => LateDataPolicy.Update(AllowedLateness),
    };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enum.IsDefined(LatePolicy))
        {
            yield return new ValidationResult("Processor:LatePolicy must be Drop, SideOutput or Update.", [nameof(LatePolicy)]);
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return new ValidationResult("Processor:RetryMaxDelay must not be below Processor:RetryBaseDelay.", [nameof(RetryMaxDelay)]);
        }

        if (IdleTimeout is { } idle && idle <= TimeSpan.Zero || StreamIdleTimeout is { } streamIdle && streamIdle <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Processor:IdleTimeout and Processor:StreamIdleTimeout must be positive (leave them empty for never).", [nameof(IdleTimeout)]);
        }

        var index = 0;
        foreach (var window in EffectiveWindows)
        {
            if (window.Problem() is { } problem)
            {
                yield return new ValidationResult($"Processor:Windows:{index}: {problem}", [nameof(Windows)]);
            }

            index++;
        }
    }
}

/// <summary>How <see cref="ProcessorOptions.DistinctUsers"/> counts.</summary>
public enum DistinctUsersMode
{
    /// <summary>A set of user ids per window: exact, memory grows with the users.</summary>
    Exact = 1,

    /// <summary>A HyperLogLog sketch per window: 2^precision bytes, approximate.</summary>
    HyperLogLog = 2,
}

/// <summary>One window definition of the default job (<c>Processor:Windows:N:*</c>).</summary>
public sealed class WindowSettings
{
    /// <summary>Tumbling, Sliding or Session.</summary>
    public WindowKind Kind { get; set; } = WindowKind.Tumbling;

    /// <summary>The window's size; a session's gap.</summary>
    public TimeSpan Size { get; set; }

    /// <summary>A sliding window's slide.</summary>
    public TimeSpan? Slide { get; set; }

    /// <summary>Windows per (event type, user) rather than per event type; sessions are per user by default in the seed's set.</summary>
    public bool PerUser { get; set; }

    /// <summary>The assigner these settings describe.</summary>
    public WindowAssigner Assigner() => Kind switch
    {
        WindowKind.Sliding => WindowAssigner.Sliding(Size, Slide ?? Size),
        WindowKind.Session => WindowAssigner.Session(Size),
        _ => WindowAssigner.Tumbling(Size),
    };

    internal string? Problem()
    {
        if (!Enum.IsDefined(Kind))
        {
            return "Kind must be Tumbling, Sliding or Session.";
        }

        if (Size < TimeSpan.FromMilliseconds(1) || Size > TimeSpan.FromDays(31))
        {
            return "Size must be between 1 ms and 31 days.";
        }

        if (Kind == WindowKind.Sliding && (Slide is not { } slide || slide < TimeSpan.FromMilliseconds(1) || slide > Size))
        {
            return "a sliding window needs a Slide between 1 ms and its Size.";
        }

        return null;
    }
}

/// <summary>Where the processor keeps its checkpoints (<see cref="ProcessorOptions.CheckpointStore"/>).</summary>
public enum ProcessorCheckpointStore
{
    /// <summary>Files under the data directory (one machine).</summary>
    DataDirectory,

    /// <summary>A compacted Kafka topic (any machine that reaches the cluster).</summary>
    Kafka,
}
