using System.Net.Http.Headers;
using EventPlatform.Gateway;
using EventPlatform.Gateway.Auth;
using EventPlatform.Hosting.Auth;
using EventPlatform.Kafka.Embedded;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Testing;

/// <summary>
/// A real gateway (Kestrel, real HTTP on a free loopback port) against an embedded broker,
/// with a known JWT secret so tests can mint good and bad tokens.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    public const string Secret = "test-secret-that-is-long-enough-for-hs256-0123456789";

    private GatewayServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token());
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    /// <summary>A client that sends a valid token on every request.</summary>
    public HttpClient Client { get; }

    public static JwtOptions Jwt { get; } = new() { SecretKey = Secret, Algorithm = "HS256" };

    public static string Token(string subject = "test-client", TimeSpan? lifetime = null, string? scope = null) =>
        JwtTokenIssuer.Create(Jwt, subject, lifetime ?? TimeSpan.FromHours(1), DateTimeOffset.UtcNow,
            scope is null ? null : new Dictionary<string, object> { [TopicAccess.ScopeClaim] = scope });

    /// <summary>A client of its own, with a token for <paramref name="subject"/> (and <paramref name="scope"/>).</summary>
    public HttpClient NewClient(string subject, string? scope = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(subject, scope: scope));
        return client;
    }

    public static async Task<GatewayServer> StartAsync(EmbeddedKafkaCluster cluster, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Jwt:SecretKey"] = Secret,
            ["Jwt:Algorithm"] = "HS256",
            ["Logging:LogLevel:Default"] = "Warning",
            // Tests post far more than a client's 100 requests a minute; rate-limit tests turn it on.
            ["Gateway:RateLimit:Enabled"] = "false",
            // Most tests are about other things; schema tests start a registry and turn this on (WithRegistry).
            ["Gateway:Schemas:Enabled"] = "false",
            ["Logging:LogLevel:EventPlatform.Kafka.Producer"] = "Error",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var app = GatewayApp.Create([], overrides, services => services.AddSingleton(cluster));
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Urls.First();
        return new GatewayServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>Settings that validate against (and register the seed schemas in) <paramref name="registry"/>.</summary>
    public static Dictionary<string, string?> WithRegistry(RegistryServer registry, IReadOnlyDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Schemas:Enabled"] = "true",
            ["SchemaRegistry:Url"] = registry.Url,
            // The registry is secured; the gateway registers its seed schemas as its administrator.
            ["SchemaRegistry:BasicAuthUserInfo"] = RegistryServer.AdminUserInfo,
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}
