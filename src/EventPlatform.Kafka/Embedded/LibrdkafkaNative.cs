using System.Reflection;
using System.Runtime.InteropServices;

namespace EventPlatform.Kafka.Embedded;

/// <summary>
/// P/Invoke into librdkafka's mock cluster API, on the very library file Confluent.Kafka loaded.
/// </summary>
/// <remarks>
/// Confluent.Kafka picks one of several librdkafka builds at run time (on Debian the default
/// build needs libsasl2.so.3, so it falls back to the centos8 one). Loading another copy would
/// give a second, separate librdkafka in the process; so we ask the OS which file is mapped.
/// </remarks>
internal static unsafe partial class LibrdkafkaNative
{
    private const string Lib = "librdkafka";

    static LibrdkafkaNative() =>
        NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaNative).Assembly, Resolve);

    /// <summary>Forces Confluent.Kafka to load librdkafka, then binds our imports to the same file.</summary>
    public static void EnsureLoaded()
    {
        _ = Confluent.Kafka.Library.Version;
        _ = LoadedPath.Value;
    }

    private static readonly Lazy<string> LoadedPath = new(FindLoadedLibrdkafka);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib)
        {
            return IntPtr.Zero;
        }

        _ = Confluent.Kafka.Library.Version;
        return NativeLibrary.Load(LoadedPath.Value);
    }

    private static string FindLoadedLibrdkafka()
    {
        const string maps = "/proc/self/maps";
        if (File.Exists(maps))
        {
            foreach (var line in File.ReadLines(maps))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && Path.GetFileName(line[slash..]) is var file && file.Contains("librdkafka", StringComparison.Ordinal) && file.Contains(".so", StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }

        throw new InvalidOperationException(
            "The embedded broker needs the librdkafka that Confluent.Kafka loaded, and it could not be found in /proc/self/maps. " +
            "The embedded broker is supported on Linux; elsewhere point KAFKA_BOOTSTRAP_SERVERS at a Kafka cluster.");
    }

    public const int RdKafkaProducer = 0;

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte* errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_conf_destroy(IntPtr conf);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte* errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    /// <summary>
    /// <see cref="rd_kafka_mock_cluster_new"/> with every signal blocked while the mock cluster's
    /// thread is created, so that thread inherits a mask that blocks them all.
    /// </summary>
    /// <remarks>
    /// The mock thread stops for good, closing every broker, when its poll() fails, and poll()
    /// fails with EINTR whenever a signal handler runs on that thread. .NET handles SIGCONT (and
    /// other signals), so a stop and continue (Ctrl-Z then <c>fg</c>, SIGSTOP/SIGCONT) silently
    /// ended the embedded broker whenever the handler landed on that thread. librdkafka blocks
    /// signals this way for the threads of <see cref="rd_kafka_new"/>, but not for the mock cluster's.
    /// </remarks>
    public static IntPtr CreateMockClusterWithSignalsBlocked(IntPtr rk, int brokerCount)
    {
        if (!OperatingSystem.IsLinux())
        {
            return rd_kafka_mock_cluster_new(rk, brokerCount);
        }

        // glibc's sigset_t is 1024 bits.
        var all = stackalloc byte[128];
        var previous = stackalloc byte[128];
        if (sigfillset(all) != 0 || pthread_sigmask(SigSetMask, all, previous) != 0)
        {
            throw new InvalidOperationException("Could not block signals while starting the embedded broker.");
        }

        try
        {
            return rd_kafka_mock_cluster_new(rk, brokerCount);
        }
        finally
        {
            _ = pthread_sigmask(SigSetMask, previous, null);
        }
    }

    private const int SigSetMask = 2;

    [LibraryImport("libc")]
    private static partial int sigfillset(byte* set);

    [LibraryImport("libc")]
    private static partial int pthread_sigmask(int how, byte* set, byte* oldSet);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, nuint count, int* errors);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_set_controller_id(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_clusterid(IntPtr rk, int timeoutMs);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mem_free(IntPtr rk, IntPtr ptr);
}
