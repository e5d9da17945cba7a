using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Tests.Avro;

/// <summary>Short ways to run our encoder and decoder in tests.</summary>
internal static class Codec
{
    public static byte[] Encode(AvroSchema schema, string json, AvroJsonEncoderOptions? options = null)
    {
        var (bytes, result) = TryEncode(schema, json, options);
        Assert.True(result.IsValid, $"missing: [{string.Join(", ", result.MissingFields)}], invalid: [{string.Join(", ", result.InvalidFields)}]");
        return bytes;
    }

    public static (byte[] Bytes, AvroEncodeResult Result) TryEncode(AvroSchema schema, string json, AvroJsonEncoderOptions? options = null)
    {
        using var document = JsonDocument.Parse(json);
        var buffer = new ArrayBufferWriter<byte>();
        var result = new AvroJsonEncoder(schema, options).Encode(document.RootElement, buffer);
        return (buffer.WrittenSpan.ToArray(), result);
    }

    public static string Decode(AvroSchema writer, AvroSchema reader, byte[] bytes) =>
        new AvroBinaryDecoder(writer, reader).DecodeToJson(bytes);

    public static string Decode(AvroSchema schema, byte[] bytes) => Decode(schema, schema, bytes);

    /// <summary>Whether two JSON texts hold the same value (object keys in any order, numbers by value).</summary>
    public static bool SameJson(string expected, string actual)
    {
        using var a = JsonDocument.Parse(expected);
        using var b = JsonDocument.Parse(actual);
        return Same(a.RootElement, b.RootElement);
    }

    public static void AssertSameJson(string expected, string actual) =>
        Assert.True(SameJson(expected, actual), $"expected {expected}\n  actual {actual}");

    private static bool Same(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
        {
            return false;
        }

        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var left = a.EnumerateObject().ToList();
                var right = b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                return left.Count == right.Count && left.All(p => right.TryGetValue(p.Name, out var v) && Same(p.Value, v));
            case JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => Same(p.First, p.Second));
            case JsonValueKind.Number:
                return a.TryGetDecimal(out var x) && b.TryGetDecimal(out var y) ? x == y : a.GetDouble().Equals(b.GetDouble());
            case JsonValueKind.String:
                return a.GetString() == b.GetString();
            default:
                return true;
        }
    }

    public static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
