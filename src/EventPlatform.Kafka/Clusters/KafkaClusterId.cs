using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using EventPlatform.Kafka.Embedded;

namespace EventPlatform.Kafka.Clusters;

/// <summary>
/// The cluster id a Kafka cluster reports in its Metadata responses, read through librdkafka's
/// <c>rd_kafka_clusterid</c>. State kept outside Kafka (checkpoints, warehouse offsets) is tagged
/// with it, so that state from another cluster (every embedded broker is a new, empty one) is
/// recognised and never applied.
/// </summary>
/// <remarks>
/// The Admin API's DescribeCluster would be the documented way, but the embedded broker does not
/// handle it; Metadata carries the same id on real clusters and on the mock alike. Confluent.Kafka
/// does not expose <c>rd_kafka_clusterid</c>, so the client's native handle is reached by reflection
/// on <see cref="Handle"/>; if that fails (another Confluent.Kafka version, no /proc/self/maps) the
/// result is null and the caller falls back on a configured identity.
/// </remarks>
public static class KafkaClusterId
{
    /// <summary>
    /// The cluster id known to the client behind <paramref name="handle"/>, waiting up to
    /// <paramref name="timeout"/> for metadata; null when the cluster reports none in time or the
    /// native call is unavailable. Blocks the calling thread.
    /// </summary>
    public static string? TryGet(Handle handle, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (NativeHandle(handle) is not SafeHandle safe)
        {
            return null;
        }

        var added = false;
        try
        {
            LibrdkafkaNative.EnsureLoaded();
            safe.DangerousAddRef(ref added);
            var rk = safe.DangerousGetHandle();
            var id = LibrdkafkaNative.rd_kafka_clusterid(rk, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
            if (id == IntPtr.Zero)
            {
                return null;
            }

            try
            {
                return Marshal.PtrToStringUTF8(id);
            }
            finally
            {
                LibrdkafkaNative.rd_kafka_mem_free(rk, id);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException or ObjectDisposedException)
        {
            return null;
        }
        finally
        {
            if (added)
            {
                safe.DangerousRelease();
            }
        }
    }

    private static object? NativeHandle(Handle handle)
    {
        const BindingFlags Flags = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        var type = handle.GetType();
        return type.GetProperty("LibrdkafkaHandle", Flags)?.GetValue(handle)
            ?? type.GetField("LibrdkafkaHandle", Flags)?.GetValue(handle);
    }
}
