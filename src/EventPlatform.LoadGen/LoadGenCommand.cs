using System.CommandLine;
using System.CommandLine.Parsing;

namespace EventPlatform.LoadGen;

/// <summary>The <c>loadgen</c> command line.</summary>
public static class LoadGenCommand
{
    /// <summary>
    /// Builds <c>loadgen</c>. <paramref name="defaultToken"/> is asked for a bearer token only when
    /// <c>--token</c> is not given (minting one may need the platform's secret);
    /// <paramref name="defaultRegistryUserInfo"/> for the registry's credentials when
    /// <c>--registry-user-info</c> is not given.
    /// </summary>
    public static Command Create(Func<string> defaultToken, Func<string?>? defaultRegistryUserInfo = null)
    {
        ArgumentNullException.ThrowIfNull(defaultToken);
        var defaults = new LoadGenOptions();
        var url = new Option<string>("--url") { Description = "The gateway's base address.", DefaultValueFactory = _ => defaults.Url };
        var topic = new Option<string>("--topic") { Description = "Topic to publish to: iot.sensors, clickstream or transactions.", DefaultValueFactory = _ => defaults.Topic };
        var rate = new Option<double>("--rate") { Description = "Requests per second, sent on schedule whatever the answers (open loop); 0 for a closed loop.", DefaultValueFactory = _ => 0 };
        var concurrency = new Option<int>("--concurrency") { Description = "Closed loop: workers, each sending its next request when the last is answered.", DefaultValueFactory = _ => defaults.Concurrency };
        var duration = CommandOptions.Duration("--duration", "How long to measure, after the warmup (30s, 2m, 500ms, or seconds).", defaults.Duration);
        var warmup = CommandOptions.Duration("--warmup", "Load sent first and not measured.", defaults.Warmup);
        var batchSize = new Option<int>("--batch-size") { Description = "Events per request: 1 uses the single-event route, more the batch route.", DefaultValueFactory = _ => defaults.BatchSize };
        var connections = new Option<int>("--connections") { Description = "Most HTTP connections to the gateway.", DefaultValueFactory = _ => defaults.Connections };
        var maxInFlight = new Option<int>("--max-in-flight") { Description = "Open loop: most requests in flight; requests due beyond it are dropped and reported.", DefaultValueFactory = _ => defaults.MaxInFlight };
        var format = new Option<BodyFormat>("--format") { Description = "Body encoding of single events: json, avro or protobuf (Confluent wire format; ids from --registry).", DefaultValueFactory = _ => defaults.Format };
        var registry = new Option<string>("--registry") { Description = "The schema registry, for the avro and protobuf formats' schema ids.", DefaultValueFactory = _ => defaults.RegistryUrl };
        var registryUserInfo = new Option<string?>("--registry-user-info") { Description = "user:password for a secured registry (basic.auth.user.info; default: SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO, else the development user of 'up')." };
        var token = new Option<string?>("--token") { Description = "Bearer token (default: a development token)." };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };

        var command = new Command("loadgen", "Send events to the ingestion gateway at a fixed rate or concurrency and report throughput and latency.")
        {
            url, topic, rate, concurrency, duration, warmup, batchSize, connections, maxInFlight, format, registry, registryUserInfo, token, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new LoadGenOptions
            {
                Url = parse.GetValue(url)!,
                Topic = parse.GetValue(topic)!,
                Rate = parse.GetValue(rate),
                Concurrency = parse.GetValue(concurrency),
                Duration = parse.GetValue(duration),
                Warmup = parse.GetValue(warmup),
                BatchSize = parse.GetValue(batchSize),
                Connections = parse.GetValue(connections),
                MaxInFlight = parse.GetValue(maxInFlight),
                Format = parse.GetValue(format),
                RegistryUrl = parse.GetValue(registry)!,
                RegistryUserInfo = parse.GetValue(registryUserInfo) ?? (parse.GetValue(format) == BodyFormat.Json ? null : defaultRegistryUserInfo?.Invoke()),
                Token = parse.GetValue(token) ?? defaultToken(),
                JsonOutputPath = parse.GetValue(json),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
                return 1;
            }

            LoadGenReport report;
            try
            {
                report = await LoadGenerator.RunAsync(options, Console.Out, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
            {
                // The schema lookup before the run failed: say why instead of a stack trace.
                await Console.Error.WriteLineAsync("loadgen: " + ex.Message).ConfigureAwait(false);
                return 1;
            }

            report.WriteSummary(Console.Out);
            return report.Succeeded ? 0 : 1;
        });
        return command;
    }
}
