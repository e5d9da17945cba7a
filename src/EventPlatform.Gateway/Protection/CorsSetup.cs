using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Protection;

/// <summary>
/// CORS for web clients, from <c>CORS_ORIGINS</c>: the seed's JSON list form
/// (<c>["https://app.example.com"]</c>) or a comma-separated list; <c>*</c> allows any origin.
/// Preflight requests are answered before authentication, as browsers send them without tokens.
/// </summary>
public static class CorsSetup
{
    public static IServiceCollection AddGatewayCors(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = ParseOrigins(configuration["Cors:Origins"]);
        services.AddCors(cors => cors.AddDefaultPolicy(policy => Configure(policy, origins)));
        return services;
    }

    /// <summary>Reads either form of the origin list; an empty or absent value allows no cross-origin calls.</summary>
    public static IReadOnlyList<string> ParseOrigins(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var trimmed = value.Trim();
        IEnumerable<string> items;
        if (trimmed.StartsWith('['))
        {
            try
            {
                items = JsonSerializer.Deserialize(trimmed, CorsJsonContext.Default.StringArray) ?? [];
            }
            catch (JsonException ex)
            {
                throw new InvalidOperationException($"CORS_ORIGINS is not a valid JSON list of origins: {ex.Message}", ex);
            }
        }
        else
        {
            items = trimmed.Split(',');
        }

        return [.. items.Select(o => o.Trim().TrimEnd('/')).Where(o => o.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    private static void Configure(CorsPolicyBuilder policy, IReadOnlyList<string> origins)
    {
        if (origins.Contains("*"))
        {
            policy.AllowAnyOrigin();
        }
        else
        {
            policy.WithOrigins([.. origins]).AllowCredentials();
        }

        policy.WithMethods("GET", "POST", "OPTIONS")
            .WithHeaders("Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID")
            .WithExposedHeaders("X-Request-ID", "Retry-After")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class CorsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
