using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EventPlatform.SchemaRegistry.Security;

/// <summary>What a request needs, and the words for the operation in a 403.</summary>
public readonly record struct RequiredAccess(RegistryScope Scope, string Operation);

/// <summary>
/// Which right each route of the registry needs, in one table. Every GET reads. A route the
/// table does not name needs <see cref="RegistryScope.Admin"/>, so that a route added later
/// is closed until someone decides otherwise; routes marked <c>AllowAnonymous</c> (metrics)
/// and <c>GET /</c> (a liveness check) are public.
/// </summary>
public static class RegistryAccessRules
{
    private static readonly Dictionary<(string Method, string Route), RequiredAccess> Table = new()
    {
        [("POST", "/subjects/{subject}")] = new(RegistryScope.Read, "look up a schema"),
        [("POST", "/compatibility/subjects/{subject}/versions")] = new(RegistryScope.Read, "test compatibility"),
        [("POST", "/compatibility/subjects/{subject}/versions/{version}")] = new(RegistryScope.Read, "test compatibility"),
        [("POST", "/subjects/{subject}/versions")] = new(RegistryScope.Write, "register a schema"),
        [("DELETE", "/subjects/{subject}")] = new(RegistryScope.Write, "delete a subject"),
        [("DELETE", "/subjects/{subject}/versions/{version}")] = new(RegistryScope.Write, "delete a version"),
        [("PUT", "/config")] = new(RegistryScope.Admin, "change the global compatibility"),
        [("PUT", "/config/{subject}")] = new(RegistryScope.Admin, "change a subject's compatibility"),
        [("DELETE", "/config/{subject}")] = new(RegistryScope.Admin, "delete a subject's compatibility"),
        [("PUT", "/mode")] = new(RegistryScope.Admin, "change the global mode"),
        [("PUT", "/mode/{subject}")] = new(RegistryScope.Admin, "change a subject's mode"),
        [("DELETE", "/mode/{subject}")] = new(RegistryScope.Admin, "delete a subject's mode"),
    };

    /// <summary>The routes other than GETs that the table names (a test checks every mapped route is among them).</summary>
    public static IReadOnlyCollection<(string Method, string Route)> Named => Table.Keys;

    /// <summary>What <paramref name="context"/>'s request needs on <paramref name="endpoint"/>.</summary>
    public static RequiredAccess For(HttpContext context, RouteEndpoint endpoint)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
        {
            // Confluent's root answers {} and serves as a liveness check: it reveals nothing.
            return endpoint.RoutePattern.RawText == "/" ? new(RegistryScope.None, "check the registry answers") : new(RegistryScope.Read, "read schemas");
        }

        if (!Table.TryGetValue((method.ToUpperInvariant(), endpoint.RoutePattern.RawText ?? ""), out var access))
        {
            return new(RegistryScope.Admin, $"{method} {endpoint.RoutePattern.RawText}");
        }

        // A permanent delete destroys versions for good: an administrator's call. Any value of
        // `permanent` other than false counts, even one the API would not read as true.
        if (HttpMethods.IsDelete(method) && access.Scope == RegistryScope.Write
            && context.Request.Query["permanent"].Any(v => !bool.TryParse(v, out var flag) || flag))
        {
            return new(RegistryScope.Admin, "permanently " + access.Operation);
        }

        return access;
    }
}
