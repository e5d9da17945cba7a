using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Configuration;

/// <summary>
/// How many connections a service's HTTP listener holds at once: <c>{Section}:MaxConnections</c>,
/// else its share of the process's open-file limit. Past it Kestrel closes each new connection as
/// soon as it is accepted.
/// </summary>
/// <remarks>
/// Without a bound, one client opening ~20,000 idle connections to the gateway used every file
/// descriptor of <c>up</c>: the other services stopped answering, and the process then exited with
/// "Out of memory" (.NET maps new compiled code through a file descriptor), losing every event the
/// embedded broker held. The shares of the services of one process sum to well under one, leaving
/// the rest (a quarter, WebSockets included) to the embedded broker, the Kafka clients, the
/// warehouse and the checkpoints.
/// </remarks>
public static class ConnectionLimits
{
    /// <summary>The gateway's share of the open-file limit: the service clients are meant to crowd.</summary>
    public const double GatewayShare = 0.4;

    /// <summary>The share of a service with a small API (registry, processor, sink, monitor).</summary>
    public const double ServiceShare = 0.05;

    /// <summary>The fewest connections a default allows, however low the open-file limit.</summary>
    public const int Floor = 64;

    /// <summary>
    /// Applies the limits to the builder's listener: <c>{section}:MaxConnections</c> when set, else
    /// <paramref name="share"/> of the open-file limit (at least <see cref="Floor"/>); and
    /// <c>{section}:MaxConnectionsPerClient</c> when set, else half of that: one address (one client, or
    /// one proxy in front of many) cannot hold every connection, as Kafka's <c>max.connections.per.ip</c>
    /// keeps one from a broker.
    /// </summary>
    public static void Apply(WebApplicationBuilder builder, string section, double share)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var limit = Setting(builder.Configuration, $"{section}:MaxConnections") ?? DefaultFor(OpenFileLimit(), share);
        var perClient = (int)Math.Min(Setting(builder.Configuration, $"{section}:MaxConnectionsPerClient") ?? Math.Max(1, limit / 2), int.MaxValue);
        var clients = new ClientConnections(perClient);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = limit;
            // WebSockets leave the count above when they upgrade; they get a quarter more of their own.
            kestrel.Limits.MaxConcurrentUpgradedConnections = Math.Max(1, limit / 4);
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(clients.Middleware));
        });
    }

    /// <summary>A positive whole number from configuration, or null when the key is not set.</summary>
    private static long? Setting(IConfiguration configuration, string key)
    {
        if (configuration[key] is not { } configured)
        {
            return null;
        }

        return long.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1
            ? value
            : throw new InvalidOperationException($"{key} must be a positive whole number, not '{configured}'.");
    }

    /// <summary>Open connections per remote address; a connection past the bound is closed before any byte is read.</summary>
    private sealed class ClientConnections(int perClient)
    {
        private readonly Dictionary<IPAddress, int> _open = [];

        public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
        {
            var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
            if (address is null)
            {
                await next(connection).ConfigureAwait(false);
                return;
            }

            if (!TryEnter(address))
            {
                connection.Abort(new ConnectionAbortedException($"more than {perClient} connections from {address}"));
                return;
            }

            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                Leave(address);
            }
        };

        private bool TryEnter(IPAddress address)
        {
            lock (_open)
            {
                var open = _open.GetValueOrDefault(address);
                if (open >= perClient)
                {
                    return false;
                }

                _open[address] = open + 1;
                return true;
            }
        }

        private void Leave(IPAddress address)
        {
            lock (_open)
            {
                var open = _open[address] - 1;
                if (open == 0)
                {
                    _open.Remove(address);
                }
                else
                {
                    _open[address] = open;
                }
            }
        }
    }

    /// <summary><paramref name="share"/> of <paramref name="openFileLimit"/>, at least <see cref="Floor"/>.</summary>
    public static long DefaultFor(long openFileLimit, double share) =>
        Math.Max(Floor, (long)Math.Min(openFileLimit * share, int.MaxValue));

    /// <summary>This process's soft limit of open files (after .NET raised it to the hard limit at start); 65,536 where it cannot be read.</summary>
    public static long OpenFileLimit()
    {
        try
        {
            return File.Exists("/proc/self/limits") ? ParseOpenFileLimit(File.ReadAllText("/proc/self/limits")) ?? 65_536 : 65_536;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 65_536;
        }
    }

    /// <summary>The soft "Max open files" of a <c>/proc/&lt;pid&gt;/limits</c> text; null when absent or unlimited.</summary>
    public static long? ParseOpenFileLimit(string limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        foreach (var line in limits.Split('\n'))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) && soft > 0 ? soft : null;
        }

        return null;
    }
}
