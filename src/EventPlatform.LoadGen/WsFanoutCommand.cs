using System.CommandLine;
using System.CommandLine.Parsing;

namespace EventPlatform.LoadGen;

/// <summary>The <c>wsfanout</c> command line: the WebSocket fan-out benchmark.</summary>
public static class WsFanoutCommand
{
    /// <summary>
    /// Builds <c>wsfanout</c>. <paramref name="defaultToken"/> is asked for a bearer token only when
    /// <c>--token</c> is not given.
    /// </summary>
    public static Command Create(Func<string> defaultToken)
    {
        ArgumentNullException.ThrowIfNull(defaultToken);
        var defaults = new WsFanoutOptions();
        var url = new Option<string>("--url") { Description = "The gateway's base address.", DefaultValueFactory = _ => defaults.Url };
        var topic = new Option<string>("--topic") { Description = "Topic to publish to and stream: iot.sensors, clickstream, transactions (or a dynamic one).", DefaultValueFactory = _ => defaults.Topic };
        var subscribers = new Option<int>("--subscribers") { Description = "WebSocket subscribers of the topic's stream.", DefaultValueFactory = _ => defaults.Subscribers };
        var rate = new Option<double>("--rate") { Description = "Events published per second (open loop).", DefaultValueFactory = _ => defaults.Rate };
        var publish = new Option<string>("--publish") { Description = "How to publish: http (one POST per event) or ws (WebSocket ingest, one frame per event).", DefaultValueFactory = _ => defaults.Publish };
        var duration = CommandOptions.Duration("--duration", "How long to measure, after the warmup.", defaults.Duration);
        var warmup = CommandOptions.Duration("--warmup", "Published first and not measured.", defaults.Warmup);
        var drain = CommandOptions.Duration("--drain-timeout", "After publishing, how long to wait for the last deliveries.", defaults.DrainTimeout);
        var connections = new Option<int>("--connections") { Description = "Most HTTP connections of the publisher.", DefaultValueFactory = _ => defaults.Connections };
        var token = new Option<string?>("--token") { Description = "Bearer token (default: a development token)." };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };

        var command = new Command("wsfanout", "Benchmark WebSocket fan-out: N subscribers of a topic's stream while events are published at a fixed rate; reports deliveries/s and publish-to-WebSocket latency.")
        {
            url, topic, subscribers, rate, publish, duration, warmup, drain, connections, token, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new WsFanoutOptions
            {
                Url = parse.GetValue(url)!,
                Topic = parse.GetValue(topic)!,
                Subscribers = parse.GetValue(subscribers),
                Rate = parse.GetValue(rate),
                Publish = parse.GetValue(publish)!,
                Duration = parse.GetValue(duration),
                Warmup = parse.GetValue(warmup),
                DrainTimeout = parse.GetValue(drain),
                Connections = parse.GetValue(connections),
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

            var report = await WsFanout.RunAsync(options, Console.Out, ct).ConfigureAwait(false);
            report.WriteSummary(Console.Out);
            return report.Succeeded ? 0 : 1;
        });
        return command;
    }
}
