using EventPlatform.Gateway.Auth;
using EventPlatform.Hosting.Auth;
using EventPlatform.Hosting.Configuration;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// Settings every command resolves the same way: the seed's environment variables, then the
/// development defaults of the embedded mode.
/// </summary>
internal static class PlatformSettings
{
    public static IConfiguration Load(string[]? args = null)
    {
        var builder = new ConfigurationBuilder().AddEnvironmentVariables().AddSeedEnvironmentVariables();
        if (args is not null)
        {
            builder.AddCommandLine(args);
        }

        return builder.Build();
    }

    /// <summary>The JWT settings: JWT_SECRET_KEY when set, else the development secret in the data directory.</summary>
    public static JwtOptions Jwt(IConfiguration configuration, bool allowDevelopmentSecret)
    {
        var options = configuration.GetSection(JwtOptions.SectionName).Get<JwtOptions>() ?? new JwtOptions();
        if (string.IsNullOrEmpty(options.SecretKey) && allowDevelopmentSecret)
        {
            options.SecretKey = DataDirectory.GetOrCreateDevelopmentJwtSecret(DataDirectory.Resolve(configuration));
            IsDevelopmentSecret = true;
        }

        return options;
    }

    public static bool IsDevelopmentSecret { get; private set; }

    /// <summary>
    /// Credentials for the schema registry: SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (or SASL_INHERIT)
    /// when set, else the development user that <c>up</c> keeps in the data directory, if any.
    /// </summary>
    public static string? RegistryUserInfo(IConfiguration configuration)
    {
        var settings = SchemaRegistryClientSettings.From(configuration);
        if (settings.UserInfo is not null)
        {
            return settings.UserInfo;
        }

        var file = Path.Combine(DataDirectory.Resolve(configuration), DataDirectory.DevelopmentRegistryCredentialsFile);
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    public static string DevelopmentToken(JwtOptions jwt, string subject = "dev-user", TimeSpan? lifetime = null) =>
        JwtTokenIssuer.Create(jwt, subject, lifetime ?? TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
}
