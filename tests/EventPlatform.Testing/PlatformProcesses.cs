using System.Net;
using System.Net.Sockets;
using Confluent.SchemaRegistry;

namespace EventPlatform.Testing;

/// <summary>
/// The platform's services as separate processes, as they run in production: the <c>broker</c>
/// command (the embedded broker alone: a cluster without the mock API and without CreateTopics),
/// and <c>registry</c>, <c>gateway</c> and <c>up</c> pointed at it over the network.
/// </summary>
/// <remarks>
/// Every setting the services get, and every client the tests use to reach the registry, is made
/// here, in one place. When the registry requires credentials they go into
/// <see cref="RegistryEnvironment"/>, <see cref="InProcessRegistrySettings"/> (its users),
/// <see cref="GatewayEnvironment"/>, <see cref="InProcessGatewaySettings"/> (the gateway's
/// registry credentials), <see cref="RegistryClient"/> and <see cref="RegistryClientConfig"/>.
/// </remarks>
public static class PlatformProcesses
{
    /// <summary>The JWT secret every child gateway verifies tokens with (the tests mint them with <see cref="GatewayServer.Token"/>).</summary>
    public const string JwtSecret = GatewayServer.Secret;

    /// <summary>How long a child may take to start: the machine is small and shared.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts <c>broker --port 0</c> and waits for the bootstrap it prints.</summary>
    public static async Task<(CliProcess Process, string BootstrapServers)> StartBrokerAsync()
    {
        var broker = CliProcess.Start("broker", ["broker", "--port", "0", "--Embedded:GroupInitialRebalanceDelay=00:00:00"]);
        try
        {
            const string Prefix = "KAFKA_BOOTSTRAP_SERVERS=";
            var line = await broker.WaitForLineAsync(l => l.StartsWith(Prefix, StringComparison.Ordinal), StartTimeout).ConfigureAwait(false);
            return (broker, line[Prefix.Length..].Trim());
        }
        catch
        {
            await broker.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The environment of a <c>registry</c> child.</summary>
    public static Dictionary<string, string?> RegistryEnvironment(string bootstrapServers) => new(RegistryServer.AuthEnvironment())
    {
        ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrapServers,
    };

    /// <summary>The environment of a <c>gateway</c> child.</summary>
    public static Dictionary<string, string?> GatewayEnvironment(string bootstrapServers, string registryUrl) => new()
    {
        ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrapServers,
        ["JWT_SECRET_KEY"] = JwtSecret,
        ["SCHEMA_REGISTRY_URL"] = registryUrl,
        ["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = RegistryServer.AdminUserInfo,
    };

    /// <summary>Starts a <c>registry</c> child on a free port and waits until it serves.</summary>
    public static async Task<(CliProcess Process, Uri Url)> StartRegistryAsync(string name, string bootstrapServers, params string[] extraArguments)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}/");
        var registry = CliProcess.Start(name, ["registry", $"--Registry:Urls={Listen(url)}", .. extraArguments], RegistryEnvironment(bootstrapServers));
        await WaitOrDisposeAsync(registry, new Uri(url, "subjects")).ConfigureAwait(false);
        return (registry, url);
    }

    /// <summary>Starts a <c>gateway</c> child on a free port and waits until its health route answers 200.</summary>
    public static async Task<(CliProcess Process, Uri Url)> StartGatewayAsync(string name, string bootstrapServers, Uri registry, params string[] extraArguments)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}/");
        var gateway = CliProcess.Start(name, ["gateway", $"--Gateway:Urls={Listen(url)}", .. extraArguments], GatewayEnvironment(bootstrapServers, registry.ToString().TrimEnd('/')));
        await WaitOrDisposeAsync(gateway, new Uri(url, "api/v1/health")).ConfigureAwait(false);
        return (gateway, url);
    }

    /// <summary>
    /// Starts a <c>sink</c> child on a free port writing to the DuckDB file <paramref name="database"/>
    /// as connector <paramref name="connector"/> (its group is <c>connect-{connector}</c>), and waits until
    /// it is live. It verifies the tests' tokens on its Connect API and <c>/query</c>.
    /// </summary>
    public static async Task<(CliProcess Process, Uri Url)> StartSinkAsync(string name, string bootstrapServers, Uri registry, string database, string connector,
        params string[] extraArguments)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}/");
        var sink = CliProcess.Start(name,
        [
            "sink", $"--Sink:Urls={Listen(url)}", $"--Sink:DatabasePath={database}", $"--Sink:Connector:name={connector}",
            // A killed member's partitions move on after 6 s, not Kafka's default 45 s.
            "--Kafka:Extra:session.timeout.ms=6000", "--Kafka:Extra:heartbeat.interval.ms=1000",
            .. extraArguments,
        ], GatewayEnvironment(bootstrapServers, registry.ToString().TrimEnd('/')));
        await WaitOrDisposeAsync(sink, new Uri(url, "health/live")).ConfigureAwait(false);
        return (sink, url);
    }

    /// <summary>Starts <c>up</c> against an external cluster (its gateway, registry, processor and sink on free ports) and waits until the gateway is healthy.</summary>
    public static async Task<(CliProcess Process, Uri Gateway, Uri Registry)> StartUpAsync(string bootstrapServers, params string[] extraArguments)
    {
        var gatewayUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
        var registryUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
        var processorUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
        var sinkUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
        var environment = new Dictionary<string, string?>
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrapServers,
            ["JWT_SECRET_KEY"] = JwtSecret,
            // The tests' administrator beside up's own development user, so the test reads its registry as it reads the others.
            [$"Registry__Auth__Users__{RegistryServer.AdminUser}__Password"] = RegistryServer.AdminPassword,
            [$"Registry__Auth__Users__{RegistryServer.AdminUser}__Scopes"] = "schemas:admin",
        };
        // Every listener of up on a free port (the Kafka exporter's default, 9308, may be taken).
        var monitorUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
        var up = CliProcess.Start("up", ["up", $"--Gateway:Urls={Listen(gatewayUrl)}", $"--Registry:Urls={Listen(registryUrl)}", $"--Processor:Urls={Listen(processorUrl)}", $"--Sink:Urls={Listen(sinkUrl)}", $"--Monitor:Urls={Listen(monitorUrl)}", .. extraArguments], environment);
        await WaitOrDisposeAsync(up, new Uri(gatewayUrl, "api/v1/health")).ConfigureAwait(false);
        return (up, gatewayUrl, registryUrl);
    }

    /// <summary>Settings of a gateway run in the test process against <paramref name="bootstrapServers"/> and <paramref name="registryUrl"/>.</summary>
    public static Dictionary<string, string?> InProcessGatewaySettings(string bootstrapServers, string registryUrl) => new()
    {
        ["Gateway:Urls"] = "http://127.0.0.1:0",
        ["Kafka:BootstrapServers"] = bootstrapServers,
        ["Jwt:SecretKey"] = JwtSecret,
        ["Jwt:Algorithm"] = "HS256",
        ["SchemaRegistry:Url"] = registryUrl,
        ["SchemaRegistry:BasicAuthUserInfo"] = RegistryServer.AdminUserInfo,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>Settings of a registry run in the test process against <paramref name="bootstrapServers"/>.</summary>
    public static Dictionary<string, string?> InProcessRegistrySettings(string bootstrapServers, string? topic = null)
    {
        var settings = new Dictionary<string, string?>(RegistryServer.AuthSettings())
        {
            ["Registry:Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (topic is not null)
        {
            settings["Registry:Topic"] = topic;
        }

        return settings;
    }

    /// <summary>An HTTP client for the registry's REST API at <paramref name="baseAddress"/>, allowed to register schemas.</summary>
    public static HttpClient RegistryClient(Uri baseAddress)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = RegistryServer.Basic(RegistryServer.AdminUser, RegistryServer.AdminPassword);
        return client;
    }

    /// <summary>Confluent's client settings for the registry at <paramref name="url"/> (reading schemas, for deserializers).</summary>
    public static SchemaRegistryConfig RegistryClientConfig(string url) => new()
    {
        Url = url,
        BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo,
        BasicAuthUserInfo = RegistryServer.AdminUserInfo,
    };

    private static async Task WaitOrDisposeAsync(CliProcess process, Uri health)
    {
        try
        {
            await process.WaitForHealthyAsync(health, StartTimeout).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Listen(Uri url) => url.ToString().TrimEnd('/');

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port nobody listens on now (the child binds it a moment later), and one this test
    /// process has not handed out before: the kernel may give a just-released port to the next
    /// bind(0), and two children told the same port fail (seen on CI: gateway and registry of one <c>up</c>).
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
