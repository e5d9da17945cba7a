using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace EventPlatform.Kafka.Embedded;

/// <summary>
/// The embedded development broker: librdkafka's mock Kafka cluster (real Kafka wire protocol on
/// loopback TCP, several brokers, consumer groups, idempotent and transactional producers),
/// with a stable bootstrap address and fault injection.
/// </summary>
/// <remarks>
/// It keeps data in memory only, at most about 5 MB or 100,000 batches per partition, and has
/// no CreateTopics, ACLs, SASL or TLS: a development and test broker, never production.
/// Every method is thread-safe (each call is handed to the mock cluster's own thread).
/// </remarks>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    private readonly IntPtr _rk;
    private readonly IntPtr _cluster;
    private readonly TcpForwarder? _forwarder;
    private int _disposed;

    private EmbeddedKafkaCluster(IntPtr rk, IntPtr cluster, int brokerCount, string brokerBootstraps, TcpForwarder? forwarder)
    {
        _rk = rk;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BrokerBootstrapServers = brokerBootstraps;
        _forwarder = forwarder;
    }

    /// <summary>Number of brokers; their ids are 1..<see cref="BrokerCount"/>.</summary>
    public int BrokerCount { get; }

    /// <summary>The brokers' own listeners (random loopback ports), comma-separated.</summary>
    public string BrokerBootstrapServers { get; }

    /// <summary>
    /// The address clients should bootstrap from: the stable forwarder (127.0.0.1:9092 by default)
    /// when there is one, otherwise the brokers' own listeners.
    /// </summary>
    public string BootstrapServers => _forwarder is null ? BrokerBootstrapServers : $"127.0.0.1:{_forwarder.Port}";

    /// <summary>Starts a cluster. Throws when the bootstrap port is taken.</summary>
    public static unsafe EmbeddedKafkaCluster Start(EmbeddedKafkaOptions? options = null)
    {
        options ??= new EmbeddedKafkaOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BrokerCount, 1);
        LibrdkafkaNative.EnsureLoaded();

        // Claim the bootstrap port first: if it is taken, fail before anything else starts.
        TcpListener? listener = null;
        if (options.BootstrapPort is { } port)
        {
            listener = TcpForwarder.Listen(port);
        }

        var conf = LibrdkafkaNative.rd_kafka_conf_new();
        Set(conf, "log_level", options.LogLevel.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(conf, "client.id", "eventplatform-embedded-broker");

        var errstr = stackalloc byte[512];
        var rk = LibrdkafkaNative.rd_kafka_new(LibrdkafkaNative.RdKafkaProducer, conf, errstr, 512);
        if (rk == IntPtr.Zero)
        {
            LibrdkafkaNative.rd_kafka_conf_destroy(conf);
            listener?.Stop();
            throw new InvalidOperationException("Could not create the embedded broker's handle: " + Marshal.PtrToStringUTF8((IntPtr)errstr));
        }

        var cluster = LibrdkafkaNative.CreateMockClusterWithSignalsBlocked(rk, options.BrokerCount);
        if (cluster == IntPtr.Zero)
        {
            LibrdkafkaNative.rd_kafka_destroy(rk);
            listener?.Stop();
            throw new InvalidOperationException("librdkafka could not create the mock cluster.");
        }

        LibrdkafkaNative.rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, (int)options.GroupInitialRebalanceDelay.TotalMilliseconds);

        // Without a controller in its metadata, an admin request waits for one until it times out;
        // with one, CreateTopics fails at once as unsupported, as on a broker without the Admin API.
        _ = LibrdkafkaNative.rd_kafka_mock_set_controller_id(cluster, 1);
        var bootstraps = Marshal.PtrToStringUTF8(LibrdkafkaNative.rd_kafka_mock_cluster_bootstraps(cluster))!;
        var brokers = bootstraps.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ParseEndPoint)
            .ToArray();
        var forwarder = listener is null ? null : new TcpForwarder(listener, brokers, options.MaxBootstrapConnections);
        return new EmbeddedKafkaCluster(rk, cluster, options.BrokerCount, bootstraps, forwarder);
    }

    private static unsafe void Set(IntPtr conf, string name, string value)
    {
        var errstr = stackalloc byte[512];
        if (LibrdkafkaNative.rd_kafka_conf_set(conf, name, value, errstr, 512) != 0)
        {
            throw new InvalidOperationException($"librdkafka refused {name}={value}: {Marshal.PtrToStringUTF8((IntPtr)errstr)}");
        }
    }

    private static IPEndPoint ParseEndPoint(string hostPort) =>
        IPEndPoint.Parse(hostPort.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));

    /// <summary>Creates a topic. Returns false when it already exists (it is left as it is).</summary>
    public bool CreateTopic(string name, int partitions, int replicationFactor)
    {
        var err = (ErrorCode)LibrdkafkaNative.rd_kafka_mock_topic_create(Handle, name, partitions, Math.Min(replicationFactor, BrokerCount));
        return err switch
        {
            ErrorCode.NoError => true,
            ErrorCode.TopicAlreadyExists => false,
            _ => throw new KafkaException(err),
        };
    }

    /// <summary>Closes a broker's connections and refuses new ones. Leaders do not move (see <see cref="SetPartitionLeader"/>).</summary>
    public void SetBrokerDown(int brokerId) => Check(LibrdkafkaNative.rd_kafka_mock_broker_set_down(Handle, brokerId));

    /// <summary>Lets a broker accept connections again.</summary>
    public void SetBrokerUp(int brokerId) => Check(LibrdkafkaNative.rd_kafka_mock_broker_set_up(Handle, brokerId));

    /// <summary>Takes every broker down: the whole cluster is unreachable.</summary>
    public void SetAllBrokersDown()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBrokerDown(id);
        }
    }

    /// <summary>Brings every broker back.</summary>
    public void SetAllBrokersUp()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBrokerUp(id);
        }
    }

    /// <summary>Delays every response of a broker by <paramref name="roundTrip"/>.</summary>
    public void SetRoundTripTime(int brokerId, TimeSpan roundTrip) =>
        Check(LibrdkafkaNative.rd_kafka_mock_broker_set_rtt(Handle, brokerId, (int)roundTrip.TotalMilliseconds));

    /// <summary>
    /// Makes the next requests of one type fail with the given errors, one error per request,
    /// in order (whichever broker receives them).
    /// </summary>
    public unsafe void PushRequestErrors(KafkaApiKey apiKey, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        fixed (int* p = codes)
        {
            LibrdkafkaNative.rd_kafka_mock_push_request_errors_array(Handle, (short)apiKey, (nuint)codes.Length, p);
        }
    }

    /// <summary>Drops errors pushed for a request type that have not fired yet.</summary>
    public void ClearRequestErrors(KafkaApiKey apiKey) => LibrdkafkaNative.rd_kafka_mock_clear_request_errors(Handle, (short)apiKey);

    /// <summary>Moves a partition's leadership (a failover); -1 leaves it without a leader.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(LibrdkafkaNative.rd_kafka_mock_partition_set_leader(Handle, topic, partition, brokerId));

    /// <summary>Sets the group join delay of every consumer group.</summary>
    public void SetGroupInitialRebalanceDelay(TimeSpan delay) =>
        LibrdkafkaNative.rd_kafka_mock_group_initial_rebalance_delay_ms(Handle, (int)delay.TotalMilliseconds);

    private IntPtr Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _cluster;
        }
    }

    private static void Check(int err)
    {
        if (err != 0)
        {
            throw new KafkaException((ErrorCode)err);
        }
    }

    /// <summary>Stops the forwarder and the brokers. Every record they held is gone.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _forwarder?.Dispose();
        LibrdkafkaNative.rd_kafka_mock_cluster_destroy(_cluster);
        LibrdkafkaNative.rd_kafka_destroy(_rk);
    }
}
