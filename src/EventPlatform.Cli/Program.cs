using System.CommandLine;
using EventPlatform.Cli.Commands;
using EventPlatform.Cli;
using EventPlatform.LoadGen;

// Before anything else: a service may re-execute itself with runtime settings only the environment gives.
ServiceRuntime.Tune(args);

var root = new RootCommand("The event streaming platform: HTTP ingestion, schema registry, Kafka, stream processing, warehouse sink.")
{
    UpCommand.Create(),
    BrokerCommand.Create(),
    GatewayCommand.Create(),
    ProcessorCommand.Create(),
    RegistryCommand.Create(),
    SinkCommand.Create(),
    QueryCommand.Create(),
    RegistryPasswordCommand.Create(),
    TokenCommand.Create(),
    TopicsCommand.Create(),
    MonitorCommand.Create(),
    DlqCommand.Create(),
    LoadGenCommand.Create(
        () => PlatformSettings.DevelopmentToken(PlatformSettings.Jwt(PlatformSettings.Load(), allowDevelopmentSecret: true), "loadgen"),
        () => PlatformSettings.RegistryUserInfo(PlatformSettings.Load())),
    WsFanoutCommand.Create(() => PlatformSettings.DevelopmentToken(PlatformSettings.Jwt(PlatformSettings.Load(), allowDevelopmentSecret: true), "wsfanout")),
};

// Ctrl-C/SIGTERM cancel the command's token; services then drain and flush. The generous
// timeout only guards against a shutdown that hangs.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
return await root.Parse(args).InvokeAsync(invocation);
