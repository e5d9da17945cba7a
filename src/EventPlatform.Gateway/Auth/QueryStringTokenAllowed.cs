namespace EventPlatform.Gateway.Auth;

/// <summary>
/// Endpoint metadata: a WebSocket upgrade to this route may carry its bearer token as
/// <c>?access_token=</c> (browsers cannot set headers on a WebSocket). Only the WebSocket routes carry it.
/// </summary>
public sealed class QueryStringTokenAllowed
{
    public static readonly QueryStringTokenAllowed Instance = new();

    private QueryStringTokenAllowed()
    {
    }
}
