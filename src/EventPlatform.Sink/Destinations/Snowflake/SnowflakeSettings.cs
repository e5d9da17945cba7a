using System.Text.RegularExpressions;
using EventPlatform.Sink.Configuration;

namespace EventPlatform.Sink.Destinations.Snowflake;

/// <summary>
/// A Snowflake destination's settings, read from the connector's <c>snowflake.*</c> keys (the seed's
/// names and Snowflake's own connector's): <c>snowflake.url.name</c>, <c>snowflake.user.name</c>,
/// <c>snowflake.private.key</c> (PEM or base64 DER, PKCS#8), <c>snowflake.private.key.passphrase</c>,
/// <c>snowflake.database.name</c>, <c>snowflake.schema.name</c> (the <c>events</c> table and the
/// offsets), <c>snowflake.analytics.schema.name</c> (<c>aggregated_events</c>, the seed's ANALYTICS),
/// <c>snowflake.role.name</c> and <c>snowflake.warehouse.name</c>.
/// </summary>
public sealed partial record SnowflakeSettings(
    Uri BaseAddress,
    string Account,
    string User,
    string PrivateKey,
    string? Passphrase,
    string Database,
    string Schema,
    string AnalyticsSchema,
    string? Role,
    string? Warehouse)
{
    /// <summary>The settings of <paramref name="config"/>, or a <see cref="SinkConfigException"/> naming what is missing or wrong.</summary>
    public static SnowflakeSettings From(SinkConnectorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.UnresolvedKeys.Count > 0)
        {
            throw new SinkConfigException($"The Snowflake destination needs {string.Join(", ", config.UnresolvedKeys)}, whose environment variables are not set.");
        }

        string Required(string key) => config.Values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v)
            ? v.Trim()
            : throw new SinkConfigException($"The Snowflake destination needs '{key}'.");
        string? Optional(string key) => config.Values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        string Identifier(string key, string? fallback = null)
        {
            var value = fallback is null ? Required(key) : Optional(key) ?? fallback;
            // Identifiers are written into SQL: plain ones only (no quoting games).
            return IdentifierPattern().IsMatch(value) ? value.ToUpperInvariant() : throw new SinkConfigException($"'{key}' must be a plain Snowflake identifier (letters, digits, '_', '$'), not '{value}'.");
        }

        var url = Required("snowflake.url.name");
        if (!url.Contains("://", StringComparison.Ordinal))
        {
            url = "https://" + url;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme is not ("https" or "http"))
        {
            throw new SinkConfigException($"'snowflake.url.name' is not a URL: '{url}'.");
        }

        // The account in the token is the URL's first label, without region or cloud, upper case
        // (an organisation-account name keeps its hyphen); snowflake.account.name overrides it.
        var account = (Optional("snowflake.account.name") ?? address.Host.Split('.')[0]).Split('.')[0].ToUpperInvariant();
        var role = Optional("snowflake.role.name");
        var warehouse = Optional("snowflake.warehouse.name");
        return new SnowflakeSettings(
            new Uri(address.GetLeftPart(UriPartial.Authority) + "/"),
            account,
            Required("snowflake.user.name").ToUpperInvariant(),
            Required("snowflake.private.key"),
            Optional("snowflake.private.key.passphrase"),
            Identifier("snowflake.database.name"),
            Identifier("snowflake.schema.name"),
            Identifier("snowflake.analytics.schema.name", "ANALYTICS"),
            role is null ? null : Identifier("snowflake.role.name"),
            warehouse is null ? null : Identifier("snowflake.warehouse.name"));
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")]
    private static partial Regex IdentifierPattern();
}
