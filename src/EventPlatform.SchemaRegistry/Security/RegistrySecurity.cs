using EventPlatform.Hosting.Auth;
using EventPlatform.SchemaRegistry.Api;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace EventPlatform.SchemaRegistry.Security;

/// <summary>
/// Authentication and rights on every route of the registry: 401 with <c>WWW-Authenticate</c>
/// and Confluent's error body (<c>{"error_code":401,...}</c>) for missing or bad credentials,
/// 403 with error code 40301 naming the operation for a caller without the right.
/// </summary>
public static partial class RegistrySecurity
{
    /// <summary>Confluent's error code for an authenticated caller that lacks the right.</summary>
    public const int ForbiddenErrorCode = 40301;

    /// <summary>The options and the authenticator; bad settings stop the registry at start.</summary>
    public static IServiceCollection AddRegistrySecurity(this IServiceCollection services, IConfiguration configuration)
    {
        // The registry's bearer tokens are optional (no [Required] secret here): bound, not annotated.
        services.AddOptions<JwtOptions>().Bind(configuration.GetSection(JwtOptions.SectionName));
        services.AddOptions<RegistryAuthOptions>()
            .Bind(configuration.GetSection(RegistryAuthOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RegistryAuthOptions>>(sp => new Validation(sp.GetRequiredService<IOptions<JwtOptions>>()));
        services.AddSingleton<RegistryAuthenticator>();
        services.AddHostedService<Announcement>();
        return services;
    }

    /// <summary>Checks every request that reaches a route; call after the error handling, before the routes run.</summary>
    public static IApplicationBuilder UseRegistrySecurity(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.SchemaRegistry.Security");
        RegistryAuthenticator? resolved = null;
        return app.Use(async (context, next) =>
        {
            // Resolved at the first request, when the host has started and so validated the settings.
            var authenticator = resolved ??= context.RequestServices.GetRequiredService<RegistryAuthenticator>();
            if (!authenticator.Options.Enabled)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            // No endpoint: 404 and 405 answers, which reveal nothing.
            if (context.GetEndpoint() is not RouteEndpoint endpoint || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            var required = RegistryAccessRules.For(context, endpoint);
            var (caller, failure) = await authenticator.AuthenticateAsync(context).ConfigureAwait(false);
            if (caller is null)
            {
                LogRefused(logger, context.Request.Method, context.Request.Path, failure!);
                await ChallengeAsync(context, authenticator, failure!).ConfigureAwait(false);
                return;
            }

            if (caller.Scope >= required.Scope)
            {
                context.User = RegistryAuthenticator.Principal(caller);
                await next(context).ConfigureAwait(false);
                return;
            }

            if (caller.Anonymous)
            {
                await ChallengeAsync(context, authenticator, $"Authentication required to {required.Operation}: send Basic credentials (basic.auth.user.info) or a bearer token.").ConfigureAwait(false);
                return;
            }

            var subject = context.GetRouteValue("subject") is string s ? $" on subject '{s}'" : "";
            var message = $"User '{caller.Name}' is denied operation '{required.Operation}'{subject}: it needs the scope {RegistryScopes.Name(required.Scope)}.";
            LogDenied(logger, caller.Name, required.Operation, context.Request.Path);
            await RegistryErrorHandling.WriteAsync(context, StatusCodes.Status403Forbidden, ForbiddenErrorCode, message).ConfigureAwait(false);
        });
    }

    /// <summary>Says at start how the registry is protected, and loudly when it is not.</summary>
    private sealed class Announcement(RegistryAuthenticator authenticator, ILoggerFactory loggers) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var logger = loggers.CreateLogger("EventPlatform.SchemaRegistry.Security");
            if (authenticator.Options.Enabled)
            {
                LogAuthenticationOn(logger, authenticator.Users.Count, authenticator.AcceptsTokens, authenticator.Options.AnonymousRead);
            }
            else
            {
                LogAuthenticationOff(logger);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static Task ChallengeAsync(HttpContext context, RegistryAuthenticator authenticator, string message)
    {
        var realm = authenticator.Options.Realm;
        context.Response.Headers.Append(HeaderNames.WWWAuthenticate, $"Basic realm=\"{realm}\", charset=\"UTF-8\"");
        if (authenticator.AcceptsTokens)
        {
            context.Response.Headers.Append(HeaderNames.WWWAuthenticate, $"Bearer realm=\"{realm}\"");
        }

        return RegistryErrorHandling.WriteAsync(context, StatusCodes.Status401Unauthorized, StatusCodes.Status401Unauthorized, message);
    }

    private sealed class Validation(IOptions<JwtOptions> jwt) : IValidateOptions<RegistryAuthOptions>
    {
        public ValidateOptionsResult Validate(string? name, RegistryAuthOptions options)
        {
            var errors = RegistryAuthenticator.Validate(options, jwt.Value).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "Registry authentication on: {Users} Basic users, bearer tokens {Tokens}, anonymous reads {AnonymousRead}")]
    private static partial void LogAuthenticationOn(ILogger logger, int users, bool tokens, bool anonymousRead);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Warning, Message = "SCHEMA REGISTRY AUTHENTICATION IS OFF (Registry:Auth:Enabled=false): anyone who can reach this registry can register schemas, change compatibility and modes, and permanently delete versions. Use it only on a trusted development machine.")]
    private static partial void LogAuthenticationOff(ILogger logger);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Debug, Message = "Registry request refused (401): {Method} {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, string reason);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Debug, Message = "Registry request forbidden (403): {User} may not {Operation} ({Path})")]
    private static partial void LogDenied(ILogger logger, string user, string operation, PathString path);
}
