using EventPlatform.Hosting.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Sink.Connect;

/// <summary>
/// The Connect API's authentication: the platform's bearer token (<c>JWT_SECRET_KEY</c>, checked by
/// the shared <see cref="JwtValidation"/> rules through the gateway's <see cref="CachingTokenHandler"/>),
/// as every other platform API takes it. Without <c>JWT_SECRET_KEY</c> every protected route is
/// refused (fail closed), never opened. Thread-safe.
/// </summary>
public sealed class ConnectAuthenticator
{
    /// <summary>Longer headers are refused unread: no platform token is that long.</summary>
    public const int MaxHeaderLength = 8 * 1024;

    private readonly TokenValidationParameters? _parameters;
    private readonly CachingTokenHandler? _tokens;

    public ConnectAuthenticator(IOptions<JwtOptions> jwt, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        if (!string.IsNullOrEmpty(jwt.Value.SecretKey) && JwtOptions.SupportedAlgorithms.Contains(jwt.Value.Algorithm))
        {
            _parameters = JwtValidation.Parameters(jwt.Value, time);
            _tokens = new CachingTokenHandler(time, jwt.Value.ValidationCacheSize);
        }
    }

    /// <summary>Whether tokens can be checked at all (<c>JWT_SECRET_KEY</c> is set).</summary>
    public bool Enabled => _parameters is not null;

    /// <summary>The caller's subject, or why the request is refused.</summary>
    public async ValueTask<(string? Subject, string? Failure)> AuthenticateAsync(HttpContext context)
    {
        if (_parameters is null || _tokens is null)
        {
            return (null, "The Connect API takes the platform's bearer tokens, and JWT_SECRET_KEY (Jwt:SecretKey) is not set on this sink.");
        }

        var headers = context.Request.Headers.Authorization;
        if (headers.Count != 1 || headers[0] is not { } header)
        {
            return (null, "Send one 'Authorization: Bearer <token>' header (a platform token: see the 'token' command).");
        }

        if (header.Length > MaxHeaderLength || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "The Authorization header must be 'Bearer <token>'.");
        }

        TokenValidationResult result;
        try
        {
            result = await _tokens.ValidateTokenAsync(header[7..].Trim(), _parameters).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return (null, "The bearer token is not valid: malformed.");
        }

        return result.IsValid
            ? (result.ClaimsIdentity.FindFirst(JwtValidation.SubjectClaim)?.Value ?? "token", null)
            : (null, "The bearer token is not valid: " + (result.Exception is { } refusal ? JwtValidation.Describe(refusal) : "rejected."));
    }
}
