using System.Security.Claims;
using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Routing;
using EventPlatform.Hosting.Auth;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Auth;

/// <summary>What a caller wants to do with a topic.</summary>
public enum TopicAction
{
    Write,
    Read,
}

/// <summary>
/// Which topics a token may write and read, from its claims:
/// <list type="bullet">
/// <item><c>scope</c> (space-separated, OAuth 2 style): <c>events:write</c> and <c>events:read</c> for every
/// topic, or <c>events:write:&lt;topic&gt;</c> / <c>events:read:&lt;topic&gt;</c> for one (short or full name, or <c>*</c>);</item>
/// <item><c>topics</c>: topic names the token may both write and read.</item>
/// </list>
/// A token with neither claim may use every topic unless <see cref="JwtOptions.RequireScopes"/> is on.
/// </summary>
public static class TopicAccess
{
    public const string ScopeClaim = "scope";
    public const string TopicsClaim = "topics";

    /// <summary>Whether <paramref name="user"/> may do <paramref name="action"/> on <paramref name="topic"/> (full name).</summary>
    public static bool Allows(ClaimsPrincipal user, TopicAction action, string topic, bool requireScopes)
    {
        var verb = action == TopicAction.Write ? "events:write" : "events:read";
        var hasAny = false;
        foreach (var claim in user.Claims)
        {
            var isScope = claim.Type is ScopeClaim or "scp";
            if (!isScope && claim.Type != TopicsClaim)
            {
                continue;
            }

            hasAny = true;
            foreach (var item in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (isScope ? ScopeGrants(item, verb, topic) : SameTopic(item, topic))
                {
                    return true;
                }
            }
        }

        return !hasAny && !requireScopes;
    }

    /// <summary>The narrowest scope that would allow the action, for the 403's details.</summary>
    public static string RequiredScope(TopicAction action, string topic) =>
        (action == TopicAction.Write ? "events:write:" : "events:read:") + topic;

    private static bool ScopeGrants(string scope, string verb, string topic)
    {
        if (!scope.StartsWith(verb, StringComparison.Ordinal))
        {
            return false;
        }

        if (scope.Length == verb.Length)
        {
            return true;
        }

        return scope[verb.Length] == ':' && SameTopic(scope[(verb.Length + 1)..], topic);
    }

    private static bool SameTopic(string granted, string topic) =>
        granted == "*" || string.Equals(TopicRouter.FullTopicName(granted), topic, StringComparison.Ordinal);
}

/// <summary>Enforces <see cref="TopicAccess"/> on routes with a <c>{topic}</c> parameter, before the handler runs (and before a WebSocket upgrade).</summary>
public static class TopicAccessFilter
{
    public static TBuilder RequireTopicAccess<TBuilder>(this TBuilder builder, TopicAction action)
        where TBuilder : Microsoft.AspNetCore.Builder.IEndpointConventionBuilder =>
        builder.AddEndpointFilter((context, next) =>
        {
            // Not async: the common case (allowed) hands straight on without a state machine of its own.
            var http = context.HttpContext;
            if (http.GetRouteValue("topic") is string topic)
            {
                var requireScopes = http.RequestServices.GetRequiredService<IOptions<JwtOptions>>().Value.RequireScopes;
                var full = TopicRouter.FullTopicName(topic);
                if (!TopicAccess.Allows(http.User, action, full, requireScopes))
                {
                    var verb = action == TopicAction.Write ? "writing to" : "reading";
                    return ValueTask.FromResult<object?>(ApiErrors.Result(http, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
                        $"The token does not allow {verb} '{full}'.",
                        new JsonObject { ["topic"] = full, ["required_scope"] = TopicAccess.RequiredScope(action, full) }));
                }
            }

            return next(context);
        });
}
