using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace EventPlatform.Gateway.Tests.Fuzz;

/// <summary>The ways a valid body is made hostile.</summary>
public enum MutationKind
{
    FlipBit,
    SetByte,
    Insert,
    Truncate,
    HostileText,
    NonFinite,
    Deep,
    DuplicateKey,
    Huge,
    RandomBytes,
}

/// <summary>
/// One mutation of a valid event body. Positions are taken modulo the body's length, so a case
/// prints (and replays) the same whatever the body it is applied to.
/// </summary>
public sealed record Mutation(MutationKind Kind, int Position, int Choice, int Size, byte[] Bytes)
{
    public override string ToString() => $"{Kind}(position {Position}, choice {Choice}, size {Size}, bytes {Convert.ToHexString(Bytes)})";

    /// <summary>Applies the mutation to <paramref name="e"/> (a valid event as a JSON object).</summary>
    public byte[] Apply(JsonObject e)
    {
        var valid = Encoding.UTF8.GetBytes(e.ToJsonString());
        var at = Position % (valid.Length + 1);
        switch (Kind)
        {
            case MutationKind.FlipBit:
            {
                var copy = (byte[])valid.Clone();
                copy[Position % copy.Length] ^= (byte)(1 << (Choice % 8));
                return copy;
            }

            case MutationKind.SetByte:
            {
                var copy = (byte[])valid.Clone();
                copy[Position % copy.Length] = Bytes.Length > 0 ? Bytes[0] : (byte)0;
                return copy;
            }

            case MutationKind.Insert:
                return [.. valid.AsSpan(0, at), .. FuzzInputs.Hostile[Choice % FuzzInputs.Hostile.Length], .. valid.AsSpan(at)];
            case MutationKind.Truncate:
                return valid[..(Position % valid.Length)];
            case MutationKind.HostileText:
                return FuzzInputs.WithText(e, Choice % FuzzInputs.TextPlaces.Length, FuzzInputs.HostileTexts[Size % FuzzInputs.HostileTexts.Length]);
            case MutationKind.NonFinite:
                return FuzzInputs.WithRaw(e, Choice % FuzzInputs.NumberPlaces.Length, FuzzInputs.NonFiniteNumbers[Size % FuzzInputs.NonFiniteNumbers.Length]);
            case MutationKind.Deep:
            {
                // Around the reader's depth limit (64) and far past it, closed or not.
                int[] depths = [30, 62, 63, 64, 65, 200, 5_000, 100_000];
                var depth = depths[Size % depths.Length];
                var open = Choice % 2 == 0 ? "[" : "{\"a\":";
                var close = Choice % 2 == 0 ? "]" : "}";
                var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + (Choice % 3 == 2 ? "" : string.Concat(Enumerable.Repeat(close, depth)));
                return FuzzInputs.WithRaw(e, Position % FuzzInputs.NumberPlaces.Length, Encoding.UTF8.GetBytes(nested));
            }

            case MutationKind.DuplicateKey:
            {
                var text = Encoding.UTF8.GetString(valid);
                string[] keys = ["\"event_id\":", "\"timestamp\":", "\"event_type\":", "\"payload\":", "\"temperature\":", "\"metadata\":", "\"source\":"];
                var key = keys[Choice % keys.Length];
                var i = text.IndexOf(key, StringComparison.Ordinal);
                var copy = Choice % 2 == 0 ? "\"x\"," : "1e999,";
                return Encoding.UTF8.GetBytes(text[..i] + key + copy + text[i..]);
            }

            case MutationKind.Huge:
            {
                // Big but under the 1 MiB limit, or over it.
                var n = Size % 2 == 0 ? 100_000 : 400_000;
                var raw = (Choice % 4) switch
                {
                    0 => "\"" + new string('x', n * 2) + "\"",
                    1 => "[" + string.Join(",", Enumerable.Repeat("1", n)) + "]",
                    2 => "{" + string.Join(",", Enumerable.Range(0, n / 10).Select(k => $"\"k{k}\":{k}")) + "}",
                    _ => "\"" + string.Concat(Enumerable.Repeat("\\ud83d\\ude00", n / 6)) + "\"",
                };
                return FuzzInputs.WithRaw(e, Position % FuzzInputs.NumberPlaces.Length, Encoding.UTF8.GetBytes(raw));
            }

            default:
                return Bytes;
        }
    }
}

/// <summary>FsCheck generators of hostile input for the gateway's routes.</summary>
public static class FuzzInputs
{
    /// <summary>Byte sequences that break JSON, UTF-8 or number parsing when dropped anywhere.</summary>
    public static readonly byte[][] Hostile =
    [
        [0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0x80],
        "\\ud800"u8.ToArray(), "\\udc00\\ud800"u8.ToArray(), "1e999"u8.ToArray(), "-1e999"u8.ToArray(),
        "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), "\""u8.ToArray(), "\\"u8.ToArray(), [0x00],
        ","u8.ToArray(), ":"u8.ToArray(), "null"u8.ToArray(), "NaN"u8.ToArray(), "Infinity"u8.ToArray(), [0xEF, 0xBB, 0xBF],
        "/*c*/"u8.ToArray(), "\u2028"u8.ToArray(), "\"\\u0000\""u8.ToArray(),
    ];

    /// <summary>String contents (raw bytes between the quotes) that are not Unicode text, or barely are.</summary>
    public static readonly byte[][] HostileTexts =
    [
        "\\ud800"u8.ToArray(), "\\uDFFF"u8.ToArray(), "a\\ud800b"u8.ToArray(), "\\ud800\\ud800"u8.ToArray(), "\\udc00\\ud800"u8.ToArray(),
        "\\ud800\\n"u8.ToArray(), [0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0x80, 0x80],
        [(byte)'a', 0xFE, (byte)'b'], "\\ud83d\\ude00"u8.ToArray(), "\\u0000"u8.ToArray(), "\u2028\u2029"u8.ToArray(),
    ];

    /// <summary>Where a string is placed: every field of the event, and keys and values inside payload and metadata.</summary>
    public static readonly string[] TextPlaces =
        ["event_id", "timestamp", "event_type", "user_id", "device_id", "payload.label", "payload.<key>", "metadata.source", "metadata.<key>", "<top-level key>", "extra"];

    public static readonly string[] NumberPlaces = ["payload.temperature", "payload.new", "metadata.n", "metadata.new", "timestamp", "extra"];

    public static readonly byte[][] NonFiniteNumbers =
        ["1e999"u8.ToArray(), "-1e999"u8.ToArray(), "1E+400"u8.ToArray(), Encoding.ASCII.GetBytes("1" + new string('0', 400)), "[1,2,1e309]"u8.ToArray(), "{\"x\":{\"y\":-1e999}}"u8.ToArray()];

    private const string Marker = "\u0001MARK\u0001";

    /// <summary>The event with <paramref name="raw"/> as the contents of the string at text place <paramref name="place"/>.</summary>
    public static byte[] WithText(JsonObject e, int place, byte[] raw)
    {
        var copy = e.DeepClone().AsObject();
        switch (TextPlaces[place])
        {
            case "payload.label":
                copy["payload"]!["label"] = Marker;
                break;
            case "payload.<key>":
                copy["payload"]!.AsObject()[Marker] = 1;
                break;
            case "metadata.source":
                copy["metadata"]!["source"] = Marker;
                break;
            case "metadata.<key>":
                copy["metadata"]!.AsObject()[Marker] = "m";
                break;
            case "<top-level key>":
                copy[Marker] = 1;
                break;
            case "extra":
                copy["extra"] = new JsonObject { ["x"] = Marker };
                break;
            case var field:
                copy[field] = Marker;
                break;
        }

        return Splice(copy, "\"" + EscapedMarker + "\"", [(byte)'"', .. raw, (byte)'"']);
    }

    /// <summary>The event with <paramref name="raw"/> as the JSON value at number place <paramref name="place"/>.</summary>
    public static byte[] WithRaw(JsonObject e, int place, byte[] raw)
    {
        var copy = e.DeepClone().AsObject();
        switch (NumberPlaces[place])
        {
            case "payload.temperature":
                copy["payload"]!["temperature"] = Marker;
                break;
            case "payload.new":
                copy["payload"]!["new"] = Marker;
                break;
            case "metadata.n":
                copy["metadata"]!["n"] = Marker;
                break;
            case "metadata.new":
                copy["metadata"]!["new"] = Marker;
                break;
            case "timestamp":
                copy["timestamp"] = Marker;
                break;
            default:
                copy["extra"] = Marker;
                break;
        }

        return Splice(copy, "\"" + EscapedMarker + "\"", raw);
    }

    private static readonly string EscapedMarker = JsonValue.Create(Marker).ToJsonString()[1..^1];

    private static byte[] Splice(JsonObject e, string marker, byte[] replacement)
    {
        var text = Encoding.UTF8.GetBytes(e.ToJsonString());
        var at = text.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker));
        return [.. text.AsSpan(0, at), .. replacement, .. text.AsSpan(at + Encoding.UTF8.GetByteCount(marker))];
    }

    private static Gen<byte[]> Bytes(int max) =>
        Gen.Choose(0, 255).Select(b => (byte)b).ListOf().Select(bs => bs.Take(max).ToArray());

    public static Gen<Mutation> Mutations() =>
        from kind in Gen.Frequency(
            (3, Gen.Constant(MutationKind.FlipBit)),
            (2, Gen.Constant(MutationKind.SetByte)),
            (3, Gen.Constant(MutationKind.Insert)),
            (1, Gen.Constant(MutationKind.Truncate)),
            (4, Gen.Constant(MutationKind.HostileText)),
            (2, Gen.Constant(MutationKind.NonFinite)),
            (1, Gen.Constant(MutationKind.Deep)),
            (1, Gen.Constant(MutationKind.DuplicateKey)),
            (1, Gen.Constant(MutationKind.Huge)),
            (1, Gen.Constant(MutationKind.RandomBytes)))
        from position in Gen.Choose(0, 100_000)
        from choice in Gen.Choose(0, 1_000)
        from size in Gen.Choose(0, 1_000)
        from bytes in Bytes(kind == MutationKind.RandomBytes ? 512 : 1)
        select new Mutation(kind, position, choice, size, bytes);

    /// <summary>Content types: right, wrong, malformed, and the binary ones with bodies that are not what they say.</summary>
    public static readonly string?[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "application/json; charset=\"",
        "application/json;;;", "text/plain", "application/xml", null, "", "a/b/c", "*/*", "application/*+json", "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded", "application/vnd.kafka.avro.v2+binary", "avro/binary", "application/x-protobuf",
        "application/vnd.kafka.protobuf.v2+binary", "application/problem+json", "application/json; charset=latin1",
    ];

    public static Gen<(string? ContentType, byte[] Body)> ContentTypeCases(Func<byte[]> valid) =>
        from type in Gen.Elements(ContentTypes)
        from body in Gen.OneOf(Bytes(300), Gen.Constant(Array.Empty<byte>()), Gen.Fresh(valid))
        select (type, body);

    /// <summary>Query strings: repeated, empty, mis-encoded (%FF, encoded surrogates), huge, and plain garbage.</summary>
    public static Gen<string> QueryStrings()
    {
        var names = Gen.Elements("limit", "event_type", "user_id", "device_id", "access_token", "x", "", "%", "li%6dit");
        var values = Gen.Elements(
            "", "1", "0", "-1", "1001", "abc", "1e3", "%FF", "%ED%A0%80", "%ED%B0%80", "%C0%AF", "%", "%%", "%zz", "%00", "a+b", "%2B",
            "99999999999999999999", new string('a', 10_000), "%F0%9F%98%80", "\u00e9", "iot.sensor", "%22%5C", "1,2");
        var pair = from n in names from v in values from withValue in Gen.Elements(true, false) select withValue ? n + "=" + v : n;
        return from pairs in pair.NonEmptyListOf()
               from separator in Gen.Elements("&", "&&", ";")
               select string.Join(separator, pairs.Take(6));
    }

    /// <summary>Paths under the gateway, existing or not, with hostile segments.</summary>
    public static Gen<string> Paths() =>
        from prefix in Gen.Elements("", "api/", "api/v1/", "api/v1/events/", "api/v1/stream/", "api/v1/ingest/", "openapi/", "docs/", "api/v1/health/")
        from segment in Gen.Elements("iot.sensors", "x", "%FF", "%ED%A0%80", "..", "%2e%2e", "%00", "events.dlq", "_schemas", new string('a', 3_000), "a%2Fb", "latest", "batch", "v1.json", "%C0%AF", "iot.sensors/latest", "iot.sensors/batch/x")
        from suffix in Gen.Elements("", "/", "?x=%FF", "/latest?limit=%ED%A0%80", "//")
        select prefix + segment + suffix;
}
