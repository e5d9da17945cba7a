using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text;
using EventPlatform.Hosting.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.SchemaRegistry.Security;

/// <summary>Who is calling, with which right.</summary>
public sealed record RegistryCaller(string Name, RegistryScope Scope, bool Anonymous, string Method);

/// <summary>
/// Reads the <c>Authorization</c> header: none is an anonymous caller; <c>Basic</c> is checked
/// against <see cref="RegistryUsers"/>; <c>Bearer</c> is the platform's JWT (only when
/// <c>JWT_SECRET_KEY</c> is set), its rights from its <c>scope</c> claim. Anything else, and any
/// header that does not parse, is a failure (401), never an exception. Thread-safe.
/// </summary>
public sealed class RegistryAuthenticator
{
    /// <summary>Longer headers are refused unread: no Basic credential or platform token is that long.</summary>
    public const int MaxHeaderLength = 8 * 1024;

    private readonly JsonWebTokenHandler _tokens = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters? _jwt;

    public RegistryAuthenticator(IOptions<RegistryAuthOptions> options, IOptions<JwtOptions> jwt)
    {
        Options = options.Value;
        Users = RegistryUsers.Load(Options, out _);
        _jwt = string.IsNullOrEmpty(jwt.Value.SecretKey) ? null : JwtValidation.Parameters(jwt.Value);
    }

    public RegistryAuthOptions Options { get; }

    public RegistryUsers Users { get; }

    /// <summary>Whether bearer tokens are accepted.</summary>
    public bool AcceptsTokens => _jwt is not null;

    /// <summary>The caller, or why its credentials were refused.</summary>
    public async ValueTask<(RegistryCaller? Caller, string? Failure)> AuthenticateAsync(HttpContext context)
    {
        var headers = context.Request.Headers.Authorization;
        if (headers.Count == 0)
        {
            return (new RegistryCaller("anonymous", Options.AnonymousRead ? RegistryScope.Read : RegistryScope.None, Anonymous: true, "none"), null);
        }

        if (headers.Count > 1 || headers[0] is not { } header)
        {
            return (null, "Send one Authorization header.");
        }

        if (header.Length > MaxHeaderLength)
        {
            return (null, "The Authorization header is too long.");
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return await BasicAsync(header.AsMemory(6).Trim(), context.RequestAborted).ConfigureAwait(false);
        }

        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return await BearerAsync(header[7..].Trim()).ConfigureAwait(false);
        }

        return (null, "The Authorization header must be 'Basic <base64 of user:password>' or 'Bearer <token>'.");
    }

    private async ValueTask<(RegistryCaller?, string?)> BasicAsync(ReadOnlyMemory<char> encoded, CancellationToken cancellationToken)
    {
        var buffer = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64Chars(encoded.Span, buffer, out var length))
        {
            return (null, "The Basic credentials are not base64.");
        }

        var colon = Array.IndexOf(buffer, (byte)':', 0, length);
        if (colon < 0)
        {
            return (null, "The Basic credentials must be user:password.");
        }

        var name = Encoding.UTF8.GetString(buffer, 0, colon);
        var scope = await Users.CheckAsync(name, buffer[(colon + 1)..length], cancellationToken).ConfigureAwait(false);
        return scope is { } granted
            ? (new RegistryCaller(name, granted, Anonymous: false, "basic"), null)
            : (null, "Invalid user name or password.");
    }

    private async ValueTask<(RegistryCaller?, string?)> BearerAsync(string token)
    {
        if (_jwt is null)
        {
            return (null, "This registry takes no bearer tokens (JWT_SECRET_KEY is not set); use Basic credentials.");
        }

        TokenValidationResult result;
        try
        {
            result = await _tokens.ValidateTokenAsync(token, _jwt).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return (null, "The bearer token is not valid: malformed.");
        }

        if (!result.IsValid)
        {
            return (null, "The bearer token is not valid: " + (result.Exception is { } e ? JwtValidation.Describe(e) : "rejected."));
        }

        var scope = RegistryScope.None;
        foreach (var claim in result.ClaimsIdentity.Claims.Where(c => c.Type is JwtValidation.ScopeClaim or "scp"))
        {
            var granted = RegistryScopes.Highest(claim.Value);
            scope = granted > scope ? granted : scope;
        }

        // A token is a credential: it never has fewer rights than no credential at all.
        if (Options.AnonymousRead && scope < RegistryScope.Read)
        {
            scope = RegistryScope.Read;
        }

        var subject = result.ClaimsIdentity.FindFirst(JwtValidation.SubjectClaim)?.Value ?? "token";
        return (new RegistryCaller(subject, scope, Anonymous: false, "bearer"), null);
    }

    /// <summary>A principal for the rest of the pipeline (logs, audit).</summary>
    public static ClaimsPrincipal Principal(RegistryCaller caller) => caller.Anonymous
        ? new ClaimsPrincipal(new ClaimsIdentity())
        : new ClaimsPrincipal(new ClaimsIdentity([new Claim(JwtValidation.SubjectClaim, caller.Name), new Claim(JwtValidation.ScopeClaim, RegistryScopes.Name(caller.Scope))], caller.Method, JwtValidation.SubjectClaim, null));

    /// <summary>What is wrong with the settings, checked at start.</summary>
    public static IEnumerable<string> Validate(RegistryAuthOptions options, JwtOptions jwt)
    {
        if (!options.Enabled)
        {
            yield break;
        }

        RegistryUsers.Load(options, out var errors);
        foreach (var error in errors)
        {
            yield return error;
        }

        if (string.IsNullOrWhiteSpace(options.Realm) || options.Realm.Any(c => c is '"' or '\\' || char.IsControl(c)))
        {
            yield return "Registry:Auth:Realm must be non-empty, without quotes, backslashes or control characters.";
        }

        if (!string.IsNullOrEmpty(jwt.SecretKey))
        {
            foreach (var result in jwt.Validate(new ValidationContext(jwt)))
            {
                yield return result.ErrorMessage ?? "Jwt settings are not valid.";
            }
        }
        else if (options.Users.Count == 0 && string.IsNullOrWhiteSpace(options.UsersFile))
        {
            yield return "The schema registry has authentication on but no way to authenticate: add users (Registry:Auth:Users:<name>:Password and :Scopes, or Registry:Auth:UsersFile) " +
                "or set JWT_SECRET_KEY for bearer tokens. To run without authentication on a trusted machine, set Registry:Auth:Enabled=false explicitly.";
        }
    }
}
