using System.Net.Http.Headers;
using System.Text;
using Confluent.SchemaRegistry;
using EventPlatform.Kafka.Embedded;
using EventPlatform.SchemaRegistry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Testing;

/// <summary>
/// A real schema registry (Kestrel on a free loopback port) keeping its state in the embedded
/// broker, secured as in production: Basic users <see cref="AdminUser"/> (every right),
/// <see cref="WriterUser"/> and <see cref="ReaderUser"/>, and bearer tokens signed with
/// <see cref="GatewayServer.Secret"/>. <see cref="Client"/> and <see cref="ClientConfig"/> carry
/// the administrator's credentials, so tests about other things need not think about them.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "admin-password-0123456789";
    public const string WriterUser = "writer";
    public const string WriterPassword = "writer-password-0123456789";
    public const string ReaderUser = "reader";
    public const string ReaderPassword = "reader-password-0123456789";

    /// <summary>The administrator as Confluent's <c>basic.auth.user.info</c>.</summary>
    public const string AdminUserInfo = AdminUser + ":" + AdminPassword;

    private RegistryServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = NewClient(AdminUser, AdminPassword);
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    /// <summary>The base address as Confluent's clients take it (no trailing slash).</summary>
    public string Url => BaseAddress.ToString().TrimEnd('/');

    /// <summary>A client with the administrator's credentials on every request.</summary>
    public HttpClient Client { get; }

    /// <summary>A client of its own: Basic credentials when <paramref name="user"/> is given, else none (anonymous).</summary>
    public HttpClient NewClient(string? user = null, string? password = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (user is not null)
        {
            client.DefaultRequestHeaders.Authorization = Basic(user, password ?? "");
        }

        return client;
    }

    /// <summary>Confluent's client settings for this registry, as <paramref name="userInfo"/> (the administrator by default; null for none).</summary>
    public SchemaRegistryConfig ClientConfig(string? userInfo = AdminUserInfo)
    {
        var config = new SchemaRegistryConfig { Url = Url };
        if (userInfo is not null)
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = userInfo;
        }

        return config;
    }

    /// <summary>
    /// The settings that secure every registry the tests start: the three users and bearer tokens
    /// signed with <see cref="GatewayServer.Secret"/>. Add them to a registry started otherwise
    /// (<c>RegistryApp.Create</c>), and <see cref="AdminUserInfo"/> to its gateway's <c>SchemaRegistry:BasicAuthUserInfo</c>.
    /// </summary>
    public static Dictionary<string, string?> AuthSettings() => new()
    {
        ["Jwt:SecretKey"] = GatewayServer.Secret,
        [$"Registry:Auth:Users:{AdminUser}:Password"] = AdminPassword,
        [$"Registry:Auth:Users:{AdminUser}:Scopes"] = "schemas:admin",
        [$"Registry:Auth:Users:{WriterUser}:Password"] = WriterPassword,
        [$"Registry:Auth:Users:{WriterUser}:Scopes"] = "schemas:write",
        [$"Registry:Auth:Users:{ReaderUser}:Password"] = ReaderPassword,
        [$"Registry:Auth:Users:{ReaderUser}:Scopes"] = "schemas:read",
    };

    /// <summary>
    /// <see cref="AuthSettings"/> as environment variables, for a <c>registry</c> child process;
    /// its gateway gets <c>SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO</c> = <see cref="AdminUserInfo"/>.
    /// </summary>
    public static Dictionary<string, string?> AuthEnvironment() =>
        AuthSettings().ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);

    /// <summary>An <c>Authorization: Basic</c> header.</summary>
    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    /// <param name="cluster">The broker holding the registry's topic.</param>
    /// <param name="topic">The registry's topic: instances given the same one share their state.</param>
    /// <param name="settings">More settings (e.g. <c>Registry:Auth:AnonymousRead=false</c>, more users).</param>
    public static async Task<RegistryServer> StartAsync(EmbeddedKafkaCluster cluster, string topic = "_schemas", IReadOnlyDictionary<string, string?>? settings = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Registry:Urls"] = "http://127.0.0.1:0",
            ["Registry:Topic"] = topic,
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in AuthSettings().Concat(settings ?? new Dictionary<string, string?>()))
        {
            overrides[key] = value;
        }

        var app = RegistryApp.Create([], overrides, services => services.AddSingleton(cluster));
        await app.StartAsync().ConfigureAwait(false);
        return new RegistryServer(app, new Uri(app.Urls.First().TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}
