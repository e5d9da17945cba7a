using EventPlatform.Core.Errors;
using EventPlatform.Hosting.Auth;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Gateway.Auth;

/// <summary>
/// JWT bearer authentication for the API (Property 20): a request without a valid token gets
/// 401 with an <see cref="ErrorResponse"/> that says which of missing, invalid or expired. A token
/// must name its subject (<c>sub</c>): idempotency keys, rate limits and the audit are scoped by it.
/// </summary>
public static class JwtAuthentication
{
    public static IServiceCollection AddGatewayAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JwtOptions>()
            .Bind(configuration.GetSection(JwtOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new CachingTokenHandler(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<JwtOptions>>().Value.ValidationCacheSize));
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>, CachingTokenHandler, TimeProvider>((bearer, jwtOptions, tokens, time) =>
            {
                var jwt = jwtOptions.Value;
                bearer.MapInboundClaims = false;
                bearer.RequireHttpsMetadata = false;
                // Nothing reads the token back from the authentication properties: storing it cost allocations per request.
                bearer.SaveToken = false;
                bearer.TokenValidationParameters = JwtValidation.Parameters(jwt, time);
                // Validated tokens are remembered (exact text, until their expiry); tokens without a subject are refused.
                bearer.TokenHandlers.Clear();
                bearer.TokenHandlers.Add(tokens);
                bearer.Events = new JwtBearerEvents
                {
                    OnMessageReceived = ReadWebSocketToken,
                    OnChallenge = WriteChallengeAsync,
                    OnForbidden = static context => ApiErrors.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "The token does not grant this operation."),
                };
            });
        services.AddAuthorization();
        return services;
    }

    /// <summary>
    /// Browsers cannot set headers on a WebSocket upgrade, so a WebSocket upgrade to a route marked
    /// with <see cref="QueryStringTokenAllowed"/> may carry its token as <c>?access_token=</c>.
    /// Nowhere else: elsewhere a token in a URL leaks into logs and histories. (The WebSocket
    /// middleware runs before authentication, so that <c>IsWebSocketRequest</c> is known here.)
    /// </summary>
    private static Task ReadWebSocketToken(MessageReceivedContext context)
    {
        var http = context.HttpContext;
        if (http.Request.Headers.Authorization.Count == 0
            && http.GetEndpoint()?.Metadata.GetMetadata<QueryStringTokenAllowed>() is not null
            && http.WebSockets.IsWebSocketRequest
            && http.Request.Query.TryGetValue("access_token", out var token)
            && token.Count == 1)
        {
            context.Token = token.ToString();
        }

        return Task.CompletedTask;
    }

    private static Task WriteChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        var hasHeader = http.Request.Headers.Authorization.Count > 0;
        var (code, message, bearerError) = context.AuthenticateFailure switch
        {
            SecurityTokenExpiredException => (ErrorCodes.TokenExpired, "The bearer token has expired.", "invalid_token"),
            not null => (ErrorCodes.InvalidToken, "The bearer token is not valid: " + JwtValidation.Describe(context.AuthenticateFailure), "invalid_token"),
            null when hasHeader => (ErrorCodes.InvalidToken, "The Authorization header must be 'Bearer <token>'.", "invalid_request"),
            null => (ErrorCodes.AuthenticationRequired, "This route requires a bearer token (Authorization: Bearer <token>).", null),
        };
        http.Response.Headers.WWWAuthenticate = bearerError is null ? "Bearer" : $"Bearer error=\"{bearerError}\"";
        return ApiErrors.WriteAsync(http, StatusCodes.Status401Unauthorized, code, message);
    }
}
