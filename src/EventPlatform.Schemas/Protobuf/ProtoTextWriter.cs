using System.Globalization;
using System.Text;
using Google.Protobuf.Reflection;
using FieldType = Google.Protobuf.Reflection.FieldDescriptorProto.Type;
using Label = Google.Protobuf.Reflection.FieldDescriptorProto.Label;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>How <see cref="ProtoTextWriter"/> spells a schema.</summary>
internal enum ProtoTextStyle
{
    /// <summary>Declaration order; type names relative to the file's package; options in a fixed order.</summary>
    Canonical,

    /// <summary>Also imports and options sorted by name, and every type name fully qualified (leading dot).</summary>
    Normalized,
}

/// <summary>
/// Renders a FileDescriptorProto as .proto text, deterministically: the same descriptor gives the
/// same text whether it was parsed from text or sent serialized. Map fields and proto3
/// <c>optional</c> are written as declared (their synthetic entry messages and oneofs are not).
/// Options: the standard ones a .proto file can set; custom (extension) options are not rendered.
/// </summary>
internal sealed partial class ProtoTextWriter
{
    private readonly StringBuilder _text = new();
    private readonly ProtoTextStyle _style;
    private readonly string _packagePrefix;
    private readonly bool _proto3;
    private int _indent;

    private ProtoTextWriter(FileDescriptorProto file, ProtoTextStyle style)
    {
        _style = style;
        _packagePrefix = string.IsNullOrEmpty(file.Package) ? "." : "." + file.Package + ".";
        _proto3 = file.Syntax == "proto3";
    }

    /// <summary>The file as .proto text.</summary>
    public static string Render(FileDescriptorProto file, ProtoTextStyle style)
    {
        var writer = new ProtoTextWriter(file, style);
        writer.WriteFile(file);
        return writer._text.ToString();
    }

    private void WriteFile(FileDescriptorProto file)
    {
        Line($"syntax = {Quote(string.IsNullOrEmpty(file.Syntax) ? "proto2" : file.Syntax)};");
        if (!string.IsNullOrEmpty(file.Package))
        {
            Line($"package {file.Package};");
        }

        var imports = file.Dependencies.Select((path, i) => ImportLine(file, path, i));
        WriteBlock(_style == ProtoTextStyle.Normalized ? imports.Order(StringComparer.Ordinal) : imports);
        WriteBlock(Sorted(FileOptions(file.Options)).Select(o => $"option {o};"));
        foreach (var message in file.MessageTypes)
        {
            Blank();
            WriteMessage(message);
        }

        foreach (var enumType in file.EnumTypes)
        {
            Blank();
            WriteEnum(enumType);
        }

        WriteExtensions(file.Extensions);
        foreach (var service in file.Services)
        {
            Blank();
            WriteService(service);
        }
    }

    private static string ImportLine(FileDescriptorProto file, string path, int index)
    {
        var modifier = file.PublicDependencies.Contains(index) ? "public "
            : file.WeakDependencies.Contains(index) ? "weak " : string.Empty;
        return $"import {modifier}{Quote(path)};";
    }

    private void WriteMessage(DescriptorProto message)
    {
        Open($"message {message.Name} {{");
        foreach (var option in Sorted(MessageOptions(message.Options)))
        {
            Line($"option {option};");
        }

        var mapEntries = message.NestedTypes.Where(t => t.Options?.MapEntry == true).ToDictionary(t => t.Name);
        var writtenOneofs = new HashSet<int>();
        foreach (var field in message.Fields)
        {
            if (IsRealOneofMember(field) && writtenOneofs.Add(field.OneofIndex))
            {
                WriteOneof(message, field.OneofIndex, mapEntries);
            }
            else if (!IsRealOneofMember(field))
            {
                WriteField(field, mapEntries, inOneof: false);
            }
        }

        WriteReserved(message.ReservedRanges.Select(r => (r.Start, r.End)), message.ReservedNames, max: 536870912);
        foreach (var range in message.ExtensionRanges)
        {
            Line($"extensions {RangeText(range.Start, range.End, 536870912)};");
        }

        foreach (var nested in message.NestedTypes.Where(t => t.Options?.MapEntry != true))
        {
            WriteMessage(nested);
        }

        foreach (var nested in message.EnumTypes)
        {
            WriteEnum(nested);
        }

        WriteExtensions(message.Extensions);
        Close();
    }

    private void WriteOneof(DescriptorProto message, int index, Dictionary<string, DescriptorProto> mapEntries)
    {
        Open($"oneof {message.OneofDecls[index].Name} {{");
        foreach (var member in message.Fields.Where(f => IsRealOneofMember(f) && f.OneofIndex == index))
        {
            WriteField(member, mapEntries, inOneof: true);
        }

        Close();
    }

    /// <summary>A member of a declared oneof (not proto3 <c>optional</c>'s synthetic one).</summary>
    internal static bool IsRealOneofMember(FieldDescriptorProto field) =>
        field.ShouldSerializeOneofIndex() && !field.Proto3Optional;

    private void WriteField(FieldDescriptorProto field, Dictionary<string, DescriptorProto> mapEntries, bool inOneof)
    {
        var options = Sorted(FieldOptions(field));
        var suffix = options.Count == 0 ? string.Empty : $" [{string.Join(", ", options)}]";
        if (field.type == FieldType.TypeGroup)
        {
            throw new NotSupportedException($"Field '{field.Name}': proto2 groups are not supported.");
        }

        if (MapEntryOf(field, mapEntries) is { } entry)
        {
            Line($"map<{TypeText(entry.Fields[0])}, {TypeText(entry.Fields[1])}> {field.Name} = {field.Number}{suffix};");
            return;
        }

        Line($"{LabelText(field, inOneof)}{TypeText(field)} {field.Name} = {field.Number}{suffix};");
    }

    private static DescriptorProto? MapEntryOf(FieldDescriptorProto field, Dictionary<string, DescriptorProto> mapEntries)
    {
        if (field.label != Label.LabelRepeated || field.type != FieldType.TypeMessage)
        {
            return null;
        }

        var simpleName = field.TypeName[(field.TypeName.LastIndexOf('.') + 1)..];
        return mapEntries.GetValueOrDefault(simpleName);
    }

    private string LabelText(FieldDescriptorProto field, bool inOneof) => field.label switch
    {
        _ when inOneof => string.Empty,
        Label.LabelRepeated => "repeated ",
        Label.LabelRequired => "required ",
        _ when !_proto3 || field.Proto3Optional => "optional ",
        _ => string.Empty,
    };

    private string TypeText(FieldDescriptorProto field) =>
        field.type is FieldType.TypeMessage or FieldType.TypeEnum or FieldType.TypeGroup
            ? TypeName(field.TypeName)
            : ScalarName(field.type);

    /// <summary>A type reference: fully qualified when normalized, else relative to the package.</summary>
    private string TypeName(string name)
    {
        if (!name.StartsWith('.'))
        {
            return name;
        }

        if (_style == ProtoTextStyle.Normalized)
        {
            return name;
        }

        return name.StartsWith(_packagePrefix, StringComparison.Ordinal) ? name[_packagePrefix.Length..] : name[1..];
    }

    internal static string ScalarName(FieldType type) => type switch
    {
        FieldType.TypeDouble => "double",
        FieldType.TypeFloat => "float",
        FieldType.TypeInt64 => "int64",
        FieldType.TypeUint64 => "uint64",
        FieldType.TypeInt32 => "int32",
        FieldType.TypeFixed64 => "fixed64",
        FieldType.TypeFixed32 => "fixed32",
        FieldType.TypeBool => "bool",
        FieldType.TypeString => "string",
        FieldType.TypeBytes => "bytes",
        FieldType.TypeUint32 => "uint32",
        FieldType.TypeSfixed32 => "sfixed32",
        FieldType.TypeSfixed64 => "sfixed64",
        FieldType.TypeSint32 => "sint32",
        FieldType.TypeSint64 => "sint64",
        _ => throw new NotSupportedException($"Field type {type} has no scalar name."),
    };

    private void WriteEnum(EnumDescriptorProto enumType)
    {
        Open($"enum {enumType.Name} {{");
        foreach (var option in Sorted(EnumOptions(enumType.Options)))
        {
            Line($"option {option};");
        }

        foreach (var value in enumType.Values)
        {
            var options = Sorted(DeprecatedOption(value.Options?.Deprecated == true));
            var suffix = options.Count == 0 ? string.Empty : $" [{string.Join(", ", options)}]";
            Line($"{value.Name} = {value.Number.ToString(CultureInfo.InvariantCulture)}{suffix};");
        }

        // Enum reserved ranges are inclusive in descriptors, message ones exclusive.
        WriteReserved(enumType.ReservedRanges.Select(r => (r.Start, r.End + 1)), enumType.ReservedNames, max: int.MaxValue);
        Close();
    }

    private void WriteReserved(IEnumerable<(int Start, int End)> ranges, List<string> names, int max)
    {
        var rangeTexts = ranges.Select(r => RangeText(r.Start, r.End, max)).ToList();
        if (rangeTexts.Count > 0)
        {
            Line($"reserved {string.Join(", ", rangeTexts)};");
        }

        if (names.Count > 0)
        {
            Line($"reserved {string.Join(", ", names.Select(Quote))};");
        }
    }

    /// <summary>A descriptor range [start, end) as .proto text.</summary>
    private static string RangeText(int start, int endExclusive, int max)
    {
        var last = endExclusive - 1;
        return last == start ? Invariant(start)
            : endExclusive >= max ? $"{Invariant(start)} to max"
            : $"{Invariant(start)} to {Invariant(last)}";
    }

    private void WriteExtensions(List<FieldDescriptorProto> extensions)
    {
        foreach (var group in extensions.GroupBy(e => e.Extendee))
        {
            Blank();
            Open($"extend {TypeName(group.Key)} {{");
            foreach (var field in group)
            {
                WriteField(field, [], inOneof: false);
            }

            Close();
        }
    }

    private void WriteService(ServiceDescriptorProto service)
    {
        Open($"service {service.Name} {{");
        foreach (var option in DeprecatedOption(service.Options?.Deprecated == true))
        {
            Line($"option {option};");
        }

        foreach (var method in service.Methods)
        {
            var input = (method.ClientStreaming ? "stream " : string.Empty) + TypeName(method.InputType);
            var output = (method.ServerStreaming ? "stream " : string.Empty) + TypeName(method.OutputType);
            var deprecated = method.Options?.Deprecated == true;
            Line(deprecated
                ? $"rpc {method.Name} ({input}) returns ({output}) {{ option deprecated = true; }}"
                : $"rpc {method.Name} ({input}) returns ({output});");
        }

        Close();
    }

    private List<string> Sorted(IEnumerable<string> options) =>
        _style == ProtoTextStyle.Normalized ? options.Order(StringComparer.Ordinal).ToList() : options.ToList();

    private void WriteBlock(IEnumerable<string> lines)
    {
        var first = true;
        foreach (var line in lines)
        {
            if (first)
            {
                Blank();
                first = false;
            }

            Line(line);
        }
    }

    private void Open(string line)
    {
        Line(line);
        _indent++;
    }

    private void Close()
    {
        _indent--;
        Line("}");
    }

    private void Blank() => _text.Append('\n');

    private void Line(string line) => _text.Append(' ', _indent * 2).Append(line).Append('\n');

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
