using EventPlatform.Processor.Job;
using EventPlatform.Sink;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// What <c>up</c> decides for its gateway's downstream guard: the consumer groups of the processor
/// and the sink it runs (they must read every event), and, on the embedded broker, the broker's
/// retention, so that publishes wait before the broker drops records those groups have not read.
/// </summary>
internal static class UpGuardSettings
{
    /// <summary>Record-batch bytes librdkafka's mock cluster keeps per partition before it drops the oldest.</summary>
    public const long EmbeddedRetainedBytes = 5L * 1024 * 1024;

    /// <summary>Record batches it keeps per partition at most.</summary>
    public const long EmbeddedRetainedBatches = 100_000;

    public static void Add(UpPlatform platform, Dictionary<string, string?> settings)
    {
        var groups = new List<string>();
        if (!platform.Without.Contains("processor"))
        {
            groups.Add(platform.Configuration["Processor:JobName"] ?? new ProcessorOptions().JobName);
        }

        if (!platform.Without.Contains("sink"))
        {
            groups.Add(SinkApp.ResolveConnector(platform.Configuration).GroupId);
        }

        for (var i = 0; i < groups.Count; i++)
        {
            settings[$"Gateway:DownstreamGuard:ConsumerGroups:{i}"] = groups[i];
        }

        if (platform.ExternalBootstrap is null)
        {
            settings["Gateway:DownstreamGuard:RetainedBytesPerPartition"] = EmbeddedRetainedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Gateway:DownstreamGuard:RetainedBatchesPerPartition"] = EmbeddedRetainedBatches.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
