using EventPlatform.Monitoring;
using EventPlatform.Processor.Job;
using EventPlatform.Sink;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// What <c>up</c> decides for its Kafka exporter: the processor's and the sink's consumer groups as
/// the pipeline's stages, since the embedded broker cannot list groups (ListGroups crashes
/// librdkafka's mock cluster, so the monitor reports only the groups it is given).
/// </summary>
internal static class UpMonitorSettings
{
    public static Dictionary<string, string?> For(UpPlatform platform)
    {
        var (processorGroup, sinkGroup) = Groups(platform);
        return new Dictionary<string, string?>
        {
            ["Monitor:Urls"] = platform.Configuration["Monitor:Urls"] ?? MonitorOptions.DefaultUrls,
            ["Kafka:BootstrapServers"] = platform.Bootstrap,
            // Processors scaled out share the job's group, so one stage covers them all.
            ["Monitor:PipelineStages:processor"] = processorGroup,
            ["Monitor:PipelineStages:sink"] = sinkGroup,
        };
    }

    public static UpSummary Summary(UpPlatform platform)
    {
        var (processorGroup, sinkGroup) = Groups(platform);
        var urls = UpPlatform.LocalUrl(platform.Configuration["Monitor:Urls"] ?? MonitorOptions.DefaultUrls);
        return new UpSummary(
            [$"  Kafka exporter    {urls}/metrics   (consumer lag in messages and seconds of {processorGroup} and {sinkGroup}, pipeline stage lag and catch-up, DLQ depth; more groups: --Monitor:ConsumerGroups:0=<id>)"]);
    }

    private static (string Processor, string Sink) Groups(UpPlatform platform) => (
        platform.Configuration["Processor:JobName"] ?? new ProcessorOptions().JobName,
        SinkApp.ResolveConnector(platform.Configuration).GroupId);
}
