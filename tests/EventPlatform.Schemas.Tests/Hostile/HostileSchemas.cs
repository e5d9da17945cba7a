using System.Text;

namespace EventPlatform.Schemas.Tests.Hostile;

/// <summary>Schemas and data built to break recursive code: long chains, deep nesting, fan-out.</summary>
internal static class HostileSchemas
{
    /// <summary>A JSON Schema whose definitions form a chain of <paramref name="length"/> <c>$ref</c>s ending in a string type.</summary>
    public static string JsonRefChain(int length)
    {
        var text = new StringBuilder("""{"$ref":"#/definitions/d0","definitions":{""");
        for (var i = 0; i < length; i++)
        {
            text.Append($$"""{{(i > 0 ? "," : "")}}"d{{i}}":{"$ref":"#/definitions/d{{i + 1}}"}""");
        }

        text.Append(",\"d" + length + "\":{\"type\":\"string\"}}}");
        return text.ToString();
    }

    /// <summary>A chain of definitions, each an object whose one property is the next: deep through properties, not same-value.</summary>
    public static string JsonPropertyChain(int length)
    {
        var text = new StringBuilder("""{"$ref":"#/definitions/d0","definitions":{""");
        for (var i = 0; i < length; i++)
        {
            text.Append((i > 0 ? "," : "") + "\"d" + i + "\":{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/definitions/d" + (i + 1) + "\"}}}");
        }

        text.Append(",\"d" + length + "\":{\"type\":\"string\"}}}");
        return text.ToString();
    }

    /// <summary>
    /// A valid JSON Schema whose <c>anyOf</c>/<c>oneOf</c>/<c>allOf</c> fan out <paramref name="levels"/> deep: every level
    /// has two branches to the next, so a naive validator takes 2^levels steps on a failing instance.
    /// </summary>
    public static string JsonFanOut(int levels, string keyword = "anyOf")
    {
        var text = new StringBuilder("""{"$ref":"#/definitions/d0","definitions":{""");
        for (var i = 0; i < levels; i++)
        {
            text.Append($$"""{{(i > 0 ? "," : "")}}"d{{i}}":{"{{keyword}}":[{"$ref":"#/definitions/d{{i + 1}}"},{"allOf":[{"$ref":"#/definitions/d{{i + 1}}"}]}]}""");
        }

        text.Append(",\"d" + levels + "\":{\"type\":\"string\",\"minLength\":1}}}");
        return text.ToString();
    }

    /// <summary>JSON nested <paramref name="depth"/> arrays deep.</summary>
    public static string DeepArrays(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>.proto text with <paramref name="depth"/> messages nested in each other.</summary>
    public static string ProtoNested(int depth)
    {
        var text = new StringBuilder("syntax = \"proto3\";\n");
        for (var i = 0; i < depth; i++)
        {
            text.Append($"message M{i} {{ int32 f = 1;\n");
        }

        text.Append(new string('}', depth)).Append('\n');
        return text.ToString();
    }

    /// <summary>.proto text with a chain of <paramref name="length"/> top-level messages, each with a field of the next.</summary>
    public static string ProtoFieldChain(int length)
    {
        var text = new StringBuilder("syntax = \"proto3\";\n");
        for (var i = 0; i < length; i++)
        {
            text.Append($"message M{i} {{ M{i + 1} next = 1; }}\n");
        }

        text.Append($"message M{length} {{ int32 f = 1; }}\n");
        return text.ToString();
    }

    /// <summary>A base64 FileDescriptorProto whose messages nest <paramref name="depth"/> deep (nested_type in nested_type).</summary>
    public static string ProtoDescriptorNested(int depth)
    {
        // Sizes from the inside out, then bytes from the outside in: no quadratic copying.
        var sizes = new int[depth + 1];
        byte[] name = [0x0A, 0x01, (byte)'M'];
        sizes[depth] = name.Length;
        for (var i = depth - 1; i >= 0; i--)
        {
            sizes[i] = name.Length + 1 + VarintSize(sizes[i + 1]) + sizes[i + 1];
        }

        var bytes = new List<byte>(sizes[0] + 16) { 0x22 }; // FileDescriptorProto.message_type (4), length-delimited
        WriteVarint(bytes, sizes[0]);
        for (var i = 0; i < depth; i++)
        {
            bytes.AddRange(name);
            bytes.Add(0x1A); // DescriptorProto.nested_type (3)
            WriteVarint(bytes, sizes[i + 1]);
        }

        bytes.AddRange(name);
        return Convert.ToBase64String(bytes.ToArray());
    }

    /// <summary>An Avro schema of arrays nested <paramref name="depth"/> deep.</summary>
    public static string AvroNestedArrays(int depth)
    {
        var text = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            text.Append("""{"type":"array","items":""");
        }

        text.Append("\"int\"").Append('}', depth);
        return text.ToString();
    }

    /// <summary>A recursive Avro list: each node holds an optional next node.</summary>
    public const string AvroLinkedList = """{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}""";

    /// <summary>Avro binary of <see cref="AvroLinkedList"/> nested <paramref name="depth"/> nodes deep.</summary>
    public static byte[] AvroLinkedListData(int depth)
    {
        var bytes = new byte[depth + 1];
        Array.Fill(bytes, (byte)0x02); // union branch 1 (Node), zigzag
        bytes[depth] = 0x00;           // branch 0: null
        return bytes;
    }

    /// <summary>Protobuf binary of <c>message N { N next = 1; }</c> nested <paramref name="depth"/> deep.</summary>
    public static byte[] ProtoNestedData(int depth)
    {
        var sizes = new int[depth + 1];
        for (var i = depth - 1; i >= 0; i--)
        {
            sizes[i] = 1 + VarintSize(sizes[i + 1]) + sizes[i + 1];
        }

        var bytes = new List<byte>(sizes[0]);
        for (var i = 0; i < depth; i++)
        {
            bytes.Add(0x0A);
            WriteVarint(bytes, sizes[i + 1]);
        }

        return bytes.ToArray();
    }

    private static int VarintSize(int value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static void WriteVarint(List<byte> bytes, int value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
    }
}
