using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// Scalar JSON values to wire values, accepting what proto3 JSON parsers accept: integers as
/// numbers or strings, floats also as "NaN"/"Infinity"/"-Infinity", enums as names or numbers,
/// bytes as standard or URL-safe base64.
/// </summary>
internal static class ProtobufJsonScalars
{
    public static void Write(JsonElement json, ProtobufFieldDescriptor field, ProtoBufferWriter output)
    {
        switch (field.Type)
        {
            case ProtobufFieldType.Double:
                output.WriteFixed64(BitConverter.DoubleToUInt64Bits(ReadDouble(json)));
                break;
            case ProtobufFieldType.Float:
                output.WriteFixed32(BitConverter.SingleToUInt32Bits(ReadFloat(json)));
                break;
            case ProtobufFieldType.Int64:
                output.WriteVarint((ulong)ReadInteger(json, long.MinValue, long.MaxValue));
                break;
            case ProtobufFieldType.SFixed64:
                output.WriteFixed64((ulong)ReadInteger(json, long.MinValue, long.MaxValue));
                break;
            case ProtobufFieldType.SInt64:
                output.WriteVarint(ProtoWire.EncodeZigZag64(ReadInteger(json, long.MinValue, long.MaxValue)));
                break;
            case ProtobufFieldType.UInt64:
                output.WriteVarint(ReadUInt64(json));
                break;
            case ProtobufFieldType.Fixed64:
                output.WriteFixed64(ReadUInt64(json));
                break;
            case ProtobufFieldType.Int32:
                // Negative int32 values are sign-extended to 64 bits on the wire.
                output.WriteVarint((ulong)ReadInteger(json, int.MinValue, int.MaxValue));
                break;
            case ProtobufFieldType.SFixed32:
                output.WriteFixed32((uint)(int)ReadInteger(json, int.MinValue, int.MaxValue));
                break;
            case ProtobufFieldType.SInt32:
                output.WriteVarint(ProtoWire.EncodeZigZag32((int)ReadInteger(json, int.MinValue, int.MaxValue)));
                break;
            case ProtobufFieldType.UInt32:
                output.WriteVarint((ulong)ReadInteger(json, 0, uint.MaxValue));
                break;
            case ProtobufFieldType.Fixed32:
                output.WriteFixed32((uint)ReadInteger(json, 0, uint.MaxValue));
                break;
            case ProtobufFieldType.Bool:
                output.WriteVarint(ReadBool(json) ? 1UL : 0UL);
                break;
            case ProtobufFieldType.Enum:
                output.WriteVarint((ulong)(long)ReadEnum(json, field.EnumType!));
                break;
            case ProtobufFieldType.String:
                output.WriteLengthDelimited(Encoding.UTF8.GetBytes(ReadString(json)));
                break;
            case ProtobufFieldType.Bytes:
                output.WriteLengthDelimited(ReadBytes(json));
                break;
            default:
                throw new ProtobufEncodeException($"field type {field.Type} is not supported");
        }
    }

    /// <summary>True when the JSON value is the type's default (proto3 leaves it off the wire).</summary>
    public static bool IsDefault(JsonElement json, ProtobufFieldDescriptor field) => json.ValueKind switch
    {
        JsonValueKind.False => true,
        JsonValueKind.Number => json.TryGetDouble(out var number) && number == 0 && !double.IsNegative(number),
        JsonValueKind.String when field.Type is ProtobufFieldType.String or ProtobufFieldType.Bytes => json.GetString()!.Length == 0,
        JsonValueKind.String when field.Type == ProtobufFieldType.Enum =>
            field.EnumType!.TryGetNumber(json.GetString()!, out var value) && value == 0,
        _ => false,
    };

    /// <summary>A map key: JSON keys are strings, converted to the key field's type.</summary>
    public static void WriteMapKey(string key, ProtobufFieldDescriptor keyField, ProtoBufferWriter output)
    {
        if (keyField.Type == ProtobufFieldType.String)
        {
            output.WriteLengthDelimited(Encoding.UTF8.GetBytes(key));
            return;
        }

        if (keyField.Type == ProtobufFieldType.Bool)
        {
            output.WriteVarint(key switch
            {
                "true" => 1UL,
                "false" => 0UL,
                _ => throw new ProtobufEncodeException($"map key \"{key}\" is not true or false"),
            });
            return;
        }

        Write(JsonSerializer.SerializeToElement(key), keyField, output);
    }

    private static double ReadDouble(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Number => json.GetDouble(),
        JsonValueKind.String => json.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) => parsed,
            _ => throw Expected("a number", json),
        },
        _ => throw Expected("a number", json),
    };

    private static float ReadFloat(JsonElement json)
    {
        var value = ReadDouble(json);
        // Values that round to a finite float are accepted (float.MaxValue prints as 3.4028235E+38, a bit above it).
        return double.IsFinite(value) && float.IsInfinity((float)value)
            ? throw new ProtobufEncodeException($"{value} is out of range for a float")
            : (float)value;
    }

    private static long ReadInteger(JsonElement json, long min, long max)
    {
        if (!TryReadInteger(json, out var value))
        {
            throw Expected("an integer", json);
        }

        return value < min || value > max ? throw new ProtobufEncodeException($"{value} is out of range [{min}, {max}]") : value;
    }

    private static bool TryReadInteger(JsonElement json, out long value)
    {
        value = 0;
        if (json.ValueKind == JsonValueKind.String)
        {
            return long.TryParse(json.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        }

        if (json.ValueKind != JsonValueKind.Number || json.TryGetInt64(out value))
        {
            return json.ValueKind == JsonValueKind.Number;
        }

        // Exponent notation such as 1e3 is an integer too.
        var integral = json.TryGetDouble(out var number) && Math.Floor(number) == number && Math.Abs(number) < 9.2e18;
        value = integral ? (long)number : 0;
        return integral;
    }

    private static ulong ReadUInt64(JsonElement json)
    {
        if (json.ValueKind == JsonValueKind.Number && json.TryGetUInt64(out var value))
        {
            return value;
        }

        if (json.ValueKind == JsonValueKind.String && ulong.TryParse(json.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return value;
        }

        return (ulong)ReadInteger(json, 0, long.MaxValue);
    }

    private static bool ReadBool(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Expected("true or false", json),
    };

    private static int ReadEnum(JsonElement json, ProtobufEnumDescriptor enumType)
    {
        if (json.ValueKind == JsonValueKind.String)
        {
            return enumType.TryGetNumber(json.GetString()!, out var number)
                ? number
                : throw new ProtobufEncodeException($"{enumType.FullName} has no value {json.GetRawText()}");
        }

        return (int)ReadInteger(json, int.MinValue, int.MaxValue);
    }

    private static string ReadString(JsonElement json) =>
        json.ValueKind == JsonValueKind.String ? json.GetString()! : throw Expected("a string", json);

    private static byte[] ReadBytes(JsonElement json)
    {
        var text = ReadString(json);
        if (json.TryGetBytesFromBase64(out var bytes))
        {
            return bytes;
        }

        // URL-safe and unpadded base64 are accepted too.
        var standard = text.Replace('-', '+').Replace('_', '/');
        standard = standard.PadRight(standard.Length + ((4 - (standard.Length % 4)) % 4), '=');
        try
        {
            return Convert.FromBase64String(standard);
        }
        catch (FormatException e)
        {
            throw new ProtobufEncodeException("expected base64 bytes, got " + ProtobufJsonEncoder.Describe(json), e);
        }
    }

    private static ProtobufEncodeException Expected(string what, JsonElement json) =>
        new($"expected {what}, got {ProtobufJsonEncoder.Describe(json)}");
}
