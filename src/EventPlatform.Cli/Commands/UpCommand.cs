using System.CommandLine;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway;
using EventPlatform.Hosting.Auth;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Monitoring;
using EventPlatform.Processor.Service;
using EventPlatform.SchemaRegistry;
using EventPlatform.SchemaRegistry.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>up</c>: the whole platform in one process, composed from one list of services
/// (<see cref="Services"/>). Without KAFKA_BOOTSTRAP_SERVERS it starts the embedded broker first
/// (bootstrap 127.0.0.1:9092) and stops it last, after the gateway has drained its requests and
/// the producer has flushed.
/// </summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var command = new Command("up", "Start the platform: embedded Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS is set), topics, the schema registry on http://127.0.0.1:8081 (unless SCHEMA_REGISTRY_URL is set), the gateway on http://127.0.0.1:8000 and the stream processor (health and metrics on http://127.0.0.1:8082). " +
            "Extra --Section:Key=value arguments override settings (e.g. --Gateway:DynamicTopics=true).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, ct) => RunAsync([.. parse.UnmatchedTokens], ct));
        return command;
    }

    /// <summary>
    /// What <c>up</c> runs, in the order the summary lists them; each starts after the parts it
    /// needs (<see cref="UpService.StartsAfter"/>) and they stop in the reverse order.
    /// </summary>
    private static readonly UpService[] Services =
    [
        new()
        {
            Name = "broker",
            RunsHere = p => p.ExternalBootstrap is null,
            StartAsync = (p, _) =>
            {
                p.Cluster = EmbeddedBroker.Start(p.Configuration);
                return Task.FromResult(new RunningPart(host: null, p.Cluster));
            },
            Summarize = (p, _) => new UpSummary(
                [p.Cluster is not null
                    ? $"  Kafka bootstrap   {p.Cluster.BootstrapServers}   (embedded, {p.Cluster.BrokerCount} brokers)"
                    : $"  Kafka bootstrap   {p.ExternalBootstrap}"],
                Notes: p.Cluster is not null ? ["  NOTE: " + EmbeddedBroker.InMemoryWarning, ""] : null),
        },
        new()
        {
            Name = "gateway",
            // The gateway registers and reads its schemas in the registry when it starts.
            StartsAfter = ["broker", "schema registry"],
            StartAsync = UpService.Host("gateway", p => GatewayApp.Create(p.Args, GatewaySettings(p), p.ShareCluster)),
            Summarize = (p, running) =>
            {
                var gateway = UpPlatform.LocalUrl(p.GatewayUrls);
                var plan = running!.Host!.Services.GetRequiredService<TopicPlan>();
                return new UpSummary(
                    [$"  Gateway           {gateway}"],
                    Use:
                    [
                        $"  Publish           POST {gateway}/api/v1/events/{{topic}}   (and /batch)",
                        $"  Health            GET  {gateway}/api/v1/health",
                        $"  API docs          {gateway}/docs   (OpenAPI: {gateway}/openapi/v1.json)",
                        $"  Topics            {string.Join(", ", plan.Topics.Select(t => $"{t.Name} ({t.Partitions})"))}",
                    ]);
            },
        },
        new()
        {
            Name = "schema registry",
            RunsHere = p => p.DevelopmentRegistryUser is not null,
            StartsAfter = ["broker"],
            StartAsync = UpService.Host("schema registry", p => RegistryApp.Create(p.Args, RegistrySettings(p), p.ShareCluster)),
            Summarize = (p, running) => running is not null
                ? new UpSummary(
                    [$"  Schema registry   {p.RegistryUrl}   (Confluent Schema Registry API: anonymous reads; writes need the user below)"],
                    Access:
                    [
                        $"  Registry user (every right; kept in {Path.Combine(p.DataDirectory, DataDirectory.DevelopmentRegistryCredentialsFile)}):",
                        $"  export SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO='{p.DevelopmentRegistryUser}'   (Confluent clients: basic.auth.user.info)",
                        $"  curl -u \"$SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO\" {p.RegistryUrl}/subjects",
                        "",
                    ])
                : new UpSummary(
                    [$"  Schema registry   {p.RegistryUrl}   (external; {(SchemaRegistryClientSettings.From(p.Configuration).UserInfo is null ? "no credentials configured" : "the gateway uses the configured basic.auth.user.info")})"]),
        },
        new()
        {
            Name = "processor",
            Optional = true,
            // It reads what the gateway writes (the gateway makes the topics) and registers its output schema.
            StartsAfter = ["broker", "schema registry", "gateway"],
            StartAsync = UpService.Host("processor", p => ProcessorApp.Create(p.Args, ProcessorSettings(p), p.ShareCluster)),
            Summarize = (p, _) =>
            {
                var processor = UpPlatform.LocalUrl(p.ProcessorUrls);
                return new UpSummary(
                    [$"  Stream processor  {processor}   (default job: event topics -> windows -> events.aggregated; invalid to events.dlq)"],
                    Use: [$"  Processor health  GET  {processor}/health/ready   (metrics: {processor}/metrics)"]);
            },
        },
        new()
        {
            Name = "sink",
            Optional = true,
            // It decodes through the registry, and the gateway registers the seed's schemas.
            StartsAfter = ["broker", "schema registry", "gateway"],
            StartAsync = UpService.Host("sink", p => Sink.SinkApp.Create(p.Args, UpSinkSettings.For(p), p.ShareCluster)),
            Summarize = (p, _) => UpSinkSettings.Summary(p),
        },
        new()
        {
            Name = "monitor",
            Optional = true,
            StartsAfter = ["broker"],
            StartAsync = UpService.Host("monitor", p => MonitorApp.Create(p.Args, UpMonitorSettings.For(p))),
            Summarize = (p, _) => UpMonitorSettings.Summary(p),
        },
    ];

    private static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        LogFormat format;
        try
        {
            format = PlatformLogging.FormatOf(PlatformSettings.Load(args));
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return Hosting.Lifetime.ExitCodes.StartFailed;
        }

        // Every service gets the same arguments, so --Logging:Format reaches them all. With JSON logs
        // stdout holds only JSON lines: what up says to its user goes to stderr.
        var say = format == LogFormat.Json ? Console.Error : Console.Out;
        var platform = UpPlatform.Resolve(args);
        var unknown = platform.Without.Where(name => !Services.Any(s => s.Optional && s.Name == name)).ToList();
        if (unknown.Count > 0)
        {
            await Console.Error.WriteLineAsync($"Up:Without names {string.Join(", ", unknown.Select(n => $"'{n}'"))}: only {string.Join(", ", Services.Where(s => s.Optional).Select(s => s.Name))} can be left out.").ConfigureAwait(false);
            return Hosting.Lifetime.ExitCodes.StartFailed;
        }

        var running = new List<RunningPart>();
        var byService = new Dictionary<UpService, RunningPart>();
        try
        {
            foreach (var service in UpService.InStartOrder(Services).Where(s => s.RunsHere(platform) && !platform.Without.Contains(s.Name)))
            {
                var part = await service.StartAsync(platform, cancellationToken).ConfigureAwait(false);
                running.Add(part);
                if (part.StartFailure is { } failed)
                {
                    await StopAsync(running[..^1]).ConfigureAwait(false);
                    return failed;
                }

                byService[service] = part;
            }

            // One platform: a part that stops for good (its state topic failed), or Ctrl-C, stops them all.
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var onStop = stopping.Token.Register(() => stopped.TrySetResult());
            var registrations = running.Where(r => r.Host is not null)
                .Select(r => r.Host!.Lifetime.ApplicationStopping.Register(stopping.Cancel)).ToList();
            PrintSummary(platform, byService, say);
            await stopped.Task.ConfigureAwait(false);
            registrations.ForEach(r => r.Dispose());
            await StopAsync(running).ConfigureAwait(false);

            var exitCode = running.Max(r => r.ExitCode);
            await say.WriteLineAsync(exitCode == 0
                ? "Stopped: every accepted event was acknowledged by Kafka before its response was sent, and the producer has flushed."
                : $"Stopped after a failure (exit code {exitCode}); see the critical log line above.").ConfigureAwait(false);
            return exitCode;
        }
        finally
        {
            for (var i = running.Count - 1; i >= 0; i--)
            {
                await running[i].DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops the parts in the reverse of their start order: the broker last, after the others have flushed.</summary>
    private static async Task StopAsync(List<RunningPart> running)
    {
        for (var i = running.Count - 1; i >= 0; i--)
        {
            await running[i].StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What <c>up</c> decides for its gateway: where it listens, its broker and registry, and the shared secret.</summary>
    private static Dictionary<string, string?> GatewaySettings(UpPlatform platform)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:Urls"] = platform.GatewayUrls,
            ["Jwt:SecretKey"] = platform.Jwt.SecretKey,
            ["Kafka:BootstrapServers"] = platform.Bootstrap,
            ["SchemaRegistry:Url"] = platform.RegistryUrl,
        };
        platform.AddRegistryClientCredentials(overrides);
        UpGuardSettings.Add(platform, overrides);
        return overrides;
    }

    /// <summary>
    /// The nice value of the processor's job thread and the sink's task threads in <c>up</c> (unless
    /// configured): sharing the machine with the gateway, they take the CPU it leaves, so a burst of
    /// publishes waits in Kafka rather than at the front door, and is processed once the burst is over.
    /// The downstream guard still refuses publishes before they fall behind what the broker keeps.
    /// </summary>
    internal const string DownstreamNiceness = "10";

    /// <summary>What <c>up</c> decides for its processor: where it listens, its broker and registry (with the gateway's credentials).</summary>
    private static Dictionary<string, string?> ProcessorSettings(UpPlatform platform)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Processor:Urls"] = platform.ProcessorUrls,
            ["Processor:ThreadNiceness"] = platform.Configuration["Processor:ThreadNiceness"] ?? DownstreamNiceness,
            ["Kafka:BootstrapServers"] = platform.Bootstrap,
            ["SchemaRegistry:Url"] = platform.RegistryUrl,
        };
        platform.AddRegistryClientCredentials(overrides);
        return overrides;
    }

    /// <summary>What <c>up</c> decides for its registry: where it listens, its broker, and who may use it.</summary>
    private static Dictionary<string, string?> RegistrySettings(UpPlatform platform)
    {
        var devCredentials = platform.DevelopmentRegistryUser!;
        var colon = devCredentials.IndexOf(':', StringComparison.Ordinal);
        var user = devCredentials[..colon];
        return new Dictionary<string, string?>
        {
            ["Registry:Urls"] = platform.RegistryUrls,
            ["Kafka:BootstrapServers"] = platform.Bootstrap,
            // The same secret as the gateway's, so one platform token (with schemas:* scopes) works for both.
            ["Jwt:SecretKey"] = platform.Jwt.SecretKey,
            [$"Registry:Auth:Users:{user}:Password"] = devCredentials[(colon + 1)..],
            [$"Registry:Auth:Users:{user}:Scopes"] = RegistryScopes.Admin,
        };
    }

    /// <summary>Where is what: every service's lines, section by section, then the platform's token.</summary>
    private static void PrintSummary(UpPlatform platform, Dictionary<UpService, RunningPart> running, TextWriter say)
    {
        var summaries = Services.Select(s => platform.Without.Contains(s.Name)
            ? new UpSummary([$"  {char.ToUpperInvariant(s.Name[0])}{s.Name[1..],-16} not started (Up:Without)"])
            : s.Summarize(platform, running.GetValueOrDefault(s))).ToList();
        var lines = new List<string> { "", "Event platform is up.", "" };
        lines.AddRange(summaries.SelectMany(s => s.Where));
        lines.AddRange(summaries.SelectMany(s => s.Use ?? []));
        lines.Add("");
        lines.AddRange(summaries.SelectMany(s => s.Access ?? []));
        if (PlatformSettings.IsDevelopmentSecret)
        {
            // A token signed with a production secret is not printed: the console may be logged.
            var gateway = UpPlatform.LocalUrl(platform.GatewayUrls);
            lines.Add($"  Development JWT (signed with the development secret in {platform.DataDirectory}; mint more with the 'token' command,");
            lines.Add("  'token --scope schemas:admin' for one the registry takes too):");
            lines.Add("  export TOKEN=" + PlatformSettings.DevelopmentToken(platform.Jwt));
            lines.Add("");
            lines.Add($"  Try:  curl -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\");
            lines.Add($"          -d '{{\"event_id\":\"evt_1\",\"timestamp\":\"2024-01-15T10:30:00Z\",\"event_type\":\"iot.sensor\",\"device_id\":\"device_456\",\"payload\":{{\"temperature\":22.5}}}}' \\");
            lines.Add($"          {gateway}/api/v1/events/iot.sensors");
        }
        else
        {
            lines.Add("  Tokens are signed with JWT_SECRET_KEY: mint one with the 'token' command.");
        }

        lines.Add("");
        lines.AddRange(summaries.SelectMany(s => s.Notes ?? []));
        lines.Add("Press Ctrl-C to stop.");
        say.WriteLine(string.Join(Environment.NewLine, lines));
    }
}

/// <summary>What <c>up</c> resolves once from its configuration, and what its parts share when they start.</summary>
internal sealed class UpPlatform
{
    private UpPlatform(string[] args, IConfiguration configuration)
    {
        Args = args;
        Configuration = configuration;
    }

    public string[] Args { get; }

    /// <summary>The seed's environment variables and the command line.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>KAFKA_BOOTSTRAP_SERVERS when set: then no broker runs here.</summary>
    public string? ExternalBootstrap { get; private init; }

    /// <summary>The embedded broker, once it has started.</summary>
    public EmbeddedKafkaCluster? Cluster { get; set; }

    public string? Bootstrap => Cluster?.BootstrapServers ?? ExternalBootstrap;

    public JwtOptions Jwt { get; private init; } = null!;

    public string GatewayUrls { get; private init; } = null!;

    public string RegistryUrls { get; private init; } = null!;

    public string ProcessorUrls { get; private init; } = null!;

    /// <summary>Where the gateway finds the registry: SCHEMA_REGISTRY_URL, else ours.</summary>
    public string RegistryUrl { get; private init; } = null!;

    /// <summary>The registry's development user (<c>name:password</c>) when the registry runs here; null with an external one.</summary>
    public string? DevelopmentRegistryUser { get; private init; }

    public string DataDirectory { get; private init; } = null!;

    /// <summary>
    /// Optional services left out (<c>--Up:Without=processor,sink,monitor</c>): for instance to measure
    /// ingestion alone, or to run them elsewhere.
    /// </summary>
    public IReadOnlySet<string> Without { get; private init; } = new HashSet<string>();

    /// <summary>
    /// How a part of <c>up</c> reads the registry: with our own registry, as its development user; with an
    /// external one, the configured SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO reaches the part as it is.
    /// </summary>
    public void AddRegistryClientCredentials(Dictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (DevelopmentRegistryUser is { } user)
        {
            settings["SchemaRegistry:BasicAuthUserInfo"] = user;
            settings["SchemaRegistry:BasicAuthCredentialsSource"] = "USER_INFO";
        }
    }

    /// <summary>Makes the embedded broker, if any, known to a part's services (topics are then made through its API).</summary>
    public void ShareCluster(IServiceCollection services)
    {
        if (Cluster is not null)
        {
            services.AddSingleton(Cluster);
        }
    }

    public static UpPlatform Resolve(string[] args)
    {
        var configuration = PlatformSettings.Load(args);
        var external = configuration["Kafka:BootstrapServers"];
        var externalRegistry = configuration["SchemaRegistry:Url"];
        var registryUrls = configuration["Registry:Urls"] ?? "http://127.0.0.1:8081";
        var dataDirectory = Hosting.Configuration.DataDirectory.Resolve(configuration);
        return new UpPlatform(args, configuration)
        {
            ExternalBootstrap = string.IsNullOrWhiteSpace(external) ? null : external,
            Without = (configuration["Up:Without"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
            Jwt = PlatformSettings.Jwt(configuration, allowDevelopmentSecret: true),
            GatewayUrls = configuration["Gateway:Urls"] ?? "http://127.0.0.1:8000",
            RegistryUrls = registryUrls,
            ProcessorUrls = configuration["Processor:Urls"] ?? ProcessorApp.DefaultUrls,
            RegistryUrl = externalRegistry ?? LocalUrl(registryUrls),
            DevelopmentRegistryUser = string.IsNullOrWhiteSpace(externalRegistry)
                ? Hosting.Configuration.DataDirectory.GetOrCreateDevelopmentRegistryCredentials(dataDirectory)
                : null,
            DataDirectory = dataDirectory,
        };
    }

    public static string LocalUrl(string urls) => urls.Split([',', ';'])[0].Trim().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
}
