using System.Globalization;

namespace EventPlatform.LoadGen;

/// <summary>What to send, how fast, and for how long.</summary>
public sealed class LoadGenOptions
{
    /// <summary>The gateway's base address.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8000";

    /// <summary>The topic to publish to: iot.sensors, clickstream or transactions (they decide the event shape).</summary>
    public string Topic { get; set; } = "iot.sensors";

    /// <summary>
    /// Requests per second for an open loop; 0 for a closed loop of <see cref="Concurrency"/> workers.
    /// </summary>
    public double Rate { get; set; }

    /// <summary>Workers of the closed loop, each with one request in flight.</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>The measured period, after the warmup.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Load sent before measuring: connections are opened, the JIT and the broker settle, and
    /// none of it is recorded.
    /// </summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The body encoding: JSON, or Avro or Protobuf in Confluent's wire format (single events only).</summary>
    public BodyFormat Format { get; set; } = BodyFormat.Json;

    /// <summary>The schema registry, asked for the schema ids of the Avro and Protobuf formats.</summary>
    public string RegistryUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary>
    /// <c>user:password</c> for the registry (Confluent's <c>basic.auth.user.info</c>): the Protobuf
    /// format registers its schema, which a secured registry allows only to writers.
    /// </summary>
    public string? RegistryUserInfo { get; set; }

    /// <summary>Events per request: 1 uses the single-event route, more the batch route.</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>Most TCP connections to the gateway at once.</summary>
    public int Connections { get; set; } = 256;

    /// <summary>
    /// Open loop only: most requests in flight at once. A request due while at the cap is counted
    /// as dropped instead of sent, so an overloaded gateway cannot make the generator eat all memory.
    /// </summary>
    public int MaxInFlight { get; set; } = 10_000;

    /// <summary>The bearer token; none is sent when empty.</summary>
    public string? Token { get; set; }

    /// <summary>Where to write the report as JSON, if anywhere.</summary>
    public string? JsonOutputPath { get; set; }

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (!IsHttpUrl(Url))
        {
            throw new ArgumentException($"Url must be an absolute http(s) address, not '{Url}'.", nameof(Url));
        }

        if (Format != BodyFormat.Json && !IsHttpUrl(RegistryUrl))
        {
            throw new ArgumentException($"RegistryUrl must be an absolute http(s) address, not '{RegistryUrl}'.", nameof(RegistryUrl));
        }

        if (!string.IsNullOrEmpty(RegistryUserInfo) && RegistryUserInfo.IndexOf(':', StringComparison.Ordinal) <= 0)
        {
            throw new ArgumentException("RegistryUserInfo must be user:password.", nameof(RegistryUserInfo));
        }

        if (string.IsNullOrWhiteSpace(Topic))
        {
            throw new ArgumentException("Topic is required.", nameof(Topic));
        }

        Check(double.IsFinite(Rate) && Rate >= 0, nameof(Rate), "must be 0 (closed loop) or a positive number of requests per second");
        Check(Concurrency >= 1, nameof(Concurrency), "must be at least 1");
        Check(Duration > TimeSpan.Zero, nameof(Duration), "must be positive");
        Check(Warmup >= TimeSpan.Zero, nameof(Warmup), "must not be negative");
        Check(BatchSize >= 1, nameof(BatchSize), "must be at least 1");
        Check(BatchSize == 1 || Format == BodyFormat.Json, nameof(BatchSize), "must be 1 for Avro and Protobuf (the batch route takes JSON arrays)");
        Check(Connections >= 1, nameof(Connections), "must be at least 1");
        Check(MaxInFlight >= 1, nameof(MaxInFlight), "must be at least 1");

        static bool IsHttpUrl(string text) =>
            Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

        static void Check(bool ok, string name, string rule)
        {
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, $"{name} {rule}.");
            }
        }
    }
}

/// <summary>Reads durations the way people type them: "30s", "2m", "500ms", "1h", "1.5" (seconds) or "00:00:30".</summary>
public static class DurationParser
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        if (s.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        // Longest suffix first, so "ms" is not read as "s".
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        var scale = 1.0;
        foreach (var (suffix, seconds) in units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[..^suffix.Length];
                scale = seconds;
                break;
            }
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number) || number < 0)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(number * scale);
        return true;
    }
}
