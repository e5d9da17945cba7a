using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Configuration;

/// <summary>
/// How a service reaches the schema registry, with Confluent's client setting names (section
/// <c>SchemaRegistry</c>): <c>Url</c> (<c>SCHEMA_REGISTRY_URL</c>), <c>BasicAuthUserInfo</c>
/// (<c>SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO</c>, <c>user:password</c>) and
/// <c>BasicAuthCredentialsSource</c> (<c>USER_INFO</c>, the default, or <c>SASL_INHERIT</c>: the
/// Kafka SASL user and password). Everything that talks to the registry reads it from here.
/// </summary>
public sealed class SchemaRegistryClientSettings
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SchemaRegistry";

    /// <summary>The registry's address (Confluent's clients take a comma list; the first is used for plain HTTP).</summary>
    public string? Url { get; init; }

    /// <summary><c>user:password</c> for HTTP Basic, or null for none.</summary>
    public string? UserInfo { get; init; }

    /// <summary>What is wrong with the settings, or null.</summary>
    public string? Error { get; init; }

    /// <summary>Reads the settings, resolving <c>SASL_INHERIT</c> from the Kafka section.</summary>
    public static SchemaRegistryClientSettings From(IConfiguration configuration)
    {
        var url = configuration[SectionName + ":Url"];
        var source = (configuration[SectionName + ":BasicAuthCredentialsSource"] ?? "").Trim().Replace("_", "", StringComparison.Ordinal);
        var userInfo = configuration[SectionName + ":BasicAuthUserInfo"];
        string? error = null;
        if (source.Length == 0 || source.Equals("UserInfo", StringComparison.OrdinalIgnoreCase))
        {
            userInfo = string.IsNullOrEmpty(userInfo) ? null : userInfo;
            if (userInfo is not null && userInfo.IndexOf(':', StringComparison.Ordinal) <= 0)
            {
                error = "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (SchemaRegistry:BasicAuthUserInfo) must be user:password.";
            }
        }
        else if (source.Equals("SaslInherit", StringComparison.OrdinalIgnoreCase))
        {
            var user = configuration["Kafka:SaslUsername"];
            var password = configuration["Kafka:SaslPassword"];
            if (!string.IsNullOrEmpty(userInfo) || string.IsNullOrEmpty(user) || password is null)
            {
                error = "SchemaRegistry:BasicAuthCredentialsSource=SASL_INHERIT takes KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, and no BasicAuthUserInfo.";
            }

            userInfo = $"{user}:{password}";
        }
        else
        {
            error = $"SchemaRegistry:BasicAuthCredentialsSource must be USER_INFO or SASL_INHERIT, not '{source}'.";
        }

        return new SchemaRegistryClientSettings { Url = string.IsNullOrWhiteSpace(url) ? null : url, UserInfo = error is null ? userInfo : null, Error = error };
    }

    /// <summary>The first address, with a trailing slash, for an <see cref="HttpClient"/>.</summary>
    public Uri? BaseAddress =>
        Url is not null && Uri.TryCreate(Url.Split(',')[0].Trim().TrimEnd('/') + "/", UriKind.Absolute, out var address) ? address : null;

    /// <summary>The <c>Authorization</c> header for plain HTTP requests, or null without credentials.</summary>
    public AuthenticationHeaderValue? Authorization =>
        UserInfo is null ? null : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(UserInfo)));
}
