namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// Refuses over-deep schemas before protobuf-net sees them: its .proto parser and its
/// FileDescriptorProto reader recurse once per nesting level, and so does every later walk of the
/// descriptors. Both checks are iterative and linear in the input.
/// </summary>
internal static class ProtoNesting
{
    /// <summary>Refuses .proto text whose blocks (<c>{</c> and <c>&lt;</c>) nest deeper than <see cref="SchemaLimits.MaxNestingDepth"/>.</summary>
    /// <exception cref="InvalidSchemaException">They do.</exception>
    public static void CheckText(string text, string fileName)
    {
        var braces = 0;
        var angles = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            switch (c)
            {
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    i = text.IndexOf('\n', i);
                    if (i < 0)
                    {
                        return;
                    }

                    break;
                case '/' when i + 1 < text.Length && text[i + 1] == '*':
                    i = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    if (i < 0)
                    {
                        return;
                    }

                    i++;
                    break;
                case '"' or '\'':
                    i = EndOfString(text, i);
                    break;
                // Braces and angle brackets counted apart: a stray '>' must not hide an open '{'.
                case '{' or '<':
                    if (text[i] == '{')
                    {
                        braces++;
                    }
                    else
                    {
                        angles++;
                    }

                    if (braces + angles > SchemaLimits.MaxNestingDepth)
                    {
                        throw SchemaLimits.TooDeep($"blocks in {fileName}");
                    }

                    break;
                case '}':
                    braces = Math.Max(0, braces - 1);
                    break;
                case '>':
                    angles = Math.Max(0, angles - 1);
                    break;
            }

            i++;
        }
    }

    /// <summary>
    /// Refuses a serialized FileDescriptorProto whose messages (<c>message_type</c>, then
    /// <c>nested_type</c>) or groups nest deeper than <see cref="SchemaLimits.MaxNestingDepth"/>.
    /// Malformed bytes are left for the deserializer to report.
    /// </summary>
    /// <exception cref="InvalidSchemaException">They do.</exception>
    public static void CheckDescriptor(ReadOnlySpan<byte> bytes, string fileName)
    {
        const int FileMessageType = 4; // FileDescriptorProto.message_type
        const int NestedType = 3;      // DescriptorProto.nested_type
        var frames = new Stack<(int End, bool IsFile, int Depth)>();
        frames.Push((bytes.Length, true, 0));
        var position = 0;
        var groups = 0;
        while (frames.Count > 0)
        {
            var (end, isFile, depth) = frames.Peek();
            if (position >= end)
            {
                frames.Pop();
                position = end;
                continue;
            }

            if (!TryReadVarint(bytes, ref position, end, out var tag))
            {
                return;
            }

            var field = tag >> 3;
            switch (tag & 7)
            {
                case 0:
                    if (!TryReadVarint(bytes, ref position, end, out _))
                    {
                        return;
                    }

                    break;
                case 1:
                    position += 8;
                    break;
                case 5:
                    position += 4;
                    break;
                case 2:
                    if (!TryReadVarint(bytes, ref position, end, out var length) || length > (ulong)(end - position))
                    {
                        return;
                    }

                    var childEnd = position + (int)length;
                    if (field == (ulong)(isFile ? FileMessageType : NestedType))
                    {
                        if (depth + 1 + groups > SchemaLimits.MaxNestingDepth)
                        {
                            throw SchemaLimits.TooDeep($"messages in {fileName}");
                        }

                        frames.Push((childEnd, false, depth + 1));
                    }
                    else
                    {
                        position = childEnd;
                    }

                    break;
                case 3:
                    if (depth + ++groups > SchemaLimits.MaxNestingDepth)
                    {
                        throw SchemaLimits.TooDeep($"groups in {fileName}");
                    }

                    break;
                case 4:
                    groups = Math.Max(0, groups - 1);
                    break;
                default:
                    return;
            }
        }
    }

    private static int EndOfString(string text, int start)
    {
        var quote = text[start];
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote || text[i] == '\n')
            {
                return i;
            }
        }

        return text.Length;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> bytes, ref int position, int end, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && position < end; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
