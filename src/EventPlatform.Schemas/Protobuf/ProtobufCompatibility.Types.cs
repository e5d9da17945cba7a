using Google.Protobuf.Reflection;
using FieldType = Google.Protobuf.Reflection.FieldDescriptorProto.Type;
using Label = Google.Protobuf.Reflection.FieldDescriptorProto.Label;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>Comparing the types of two fields with the same number.</summary>
internal sealed partial class ProtobufCompatibility
{
    private enum Kind
    {
        Scalar,
        Map,
        Message,
    }

    /// <summary>A field's label as written in .proto text (null: none) and its type.</summary>
    private readonly record struct TypedField(string? Label, FieldType Type, string TypeName);

    private static TypedField Typed(FieldDescriptorProto field, bool proto3, bool inOneof)
    {
        var label = field.label switch
        {
            _ when inOneof => null,
            Label.LabelRepeated => "repeated",
            Label.LabelRequired => "required",
            _ when proto3 && !field.Proto3Optional => null,
            _ => "optional",
        };
        return new TypedField(label, field.type, field.TypeName.TrimStart('.'));
    }

    private void CompareLabelsAndTypes(string field, TypedField original, TypedField update)
    {
        var originalKind = KindOf(original, _original);
        var updateKind = KindOf(update, _update);
        if (originalKind != updateKind)
        {
            Add("FIELD_KIND_CHANGED", $"Field {field} changed from {Describe(original, originalKind)} to {Describe(update, updateKind)}.");
            return;
        }

        switch (originalKind)
        {
            case Kind.Scalar:
                CompareScalars(field, original, update);
                break;
            case Kind.Message:
                CompareMessageTypes(field, original.TypeName, update.TypeName);
                break;
            default:
                var (originalKey, originalValue) = _original.MapEntry(original.TypeName);
                var (updateKey, updateValue) = _update.MapEntry(update.TypeName);
                CompareLabelsAndTypes(field + " key", Typed(originalKey, true, true), Typed(updateKey, true, true));
                CompareLabelsAndTypes(field + " value", Typed(originalValue, true, true), Typed(updateValue, true, true));
                break;
        }
    }

    private void CompareScalars(string field, TypedField original, TypedField update)
    {
        var originalGroup = WireGroup(original.Type);
        if (originalGroup != WireGroup(update.Type))
        {
            Add("FIELD_SCALAR_KIND_CHANGED", $"Field {field} changed type from {TypeText(original)} to {TypeText(update)}, which is not wire-compatible.");
        }
        else if (original.Label is not null && update.Label is not null && original.Label != update.Label && originalGroup != "string/bytes")
        {
            Add("FIELD_NUMERIC_LABEL_CHANGED", $"Numeric field {field} changed from {original.Label} to {update.Label}.");
        }
    }

    private void CompareMessageTypes(string field, string originalName, string updateName)
    {
        var originalType = _original.Types[originalName];
        var updateType = _update.Types[updateName];
        var originalLocal = LocalName(originalName, originalType.Package);
        var updateLocal = LocalName(updateName, updateType.Package);
        if (originalLocal != updateLocal)
        {
            Add("FIELD_NAMED_TYPE_CHANGED", $"Field {field} changed message type from {originalName} to {updateName}.");
            return;
        }

        // Types of the schema itself are compared as messages of their own; types from the same
        // referenced subject version are the same. Anything else is compared here.
        if (originalType.Reference is not null && originalType.Reference == updateType.Reference)
        {
            return;
        }

        var nested = new ProtobufCompatibility(_original, _update, _inProgress, _walk, originalLocal.Split('.'));
        nested.CompareMessage((DescriptorProto)originalType.Type, originalName, (DescriptorProto)updateType.Type, updateName);
        _found.AddRange(nested._found);
        if (nested._found.Count > 0)
        {
            Add("FIELD_NAMED_TYPE_CHANGED", $"Field {field} has message type {updateLocal}, which changed incompatibly.");
        }
    }

    private static string LocalName(string fullName, string package) =>
        package.Length > 0 && fullName.StartsWith(package + ".", StringComparison.Ordinal) ? fullName[(package.Length + 1)..] : fullName;

    private static Kind KindOf(TypedField field, ProtobufTypeIndex index) => field.Type switch
    {
        FieldType.TypeEnum => Kind.Scalar,
        FieldType.TypeMessage or FieldType.TypeGroup => index.IsMapEntry(field.TypeName) ? Kind.Map : Kind.Message,
        _ => Kind.Scalar,
    };

    /// <summary>Scalar types that read each other's wire values (enums are varints).</summary>
    private static string WireGroup(FieldType type) => type switch
    {
        FieldType.TypeInt32 or FieldType.TypeUint32 or FieldType.TypeInt64 or FieldType.TypeUint64
            or FieldType.TypeBool or FieldType.TypeEnum => "varint",
        FieldType.TypeSint32 or FieldType.TypeSint64 => "zigzag",
        FieldType.TypeFixed32 or FieldType.TypeSfixed32 => "fixed32",
        FieldType.TypeFixed64 or FieldType.TypeSfixed64 => "fixed64",
        FieldType.TypeString or FieldType.TypeBytes => "string/bytes",
        FieldType.TypeFloat => "float",
        _ => "double",
    };

    private static string TypeText(TypedField field) =>
        field.Type is FieldType.TypeEnum or FieldType.TypeMessage or FieldType.TypeGroup ? field.TypeName : ProtoTextWriter.ScalarName(field.Type);

    private static string Describe(TypedField field, Kind kind) => kind switch
    {
        Kind.Map => "a map",
        Kind.Message => "message " + field.TypeName,
        _ => (field.Type == FieldType.TypeEnum ? "enum " : "scalar ") + TypeText(field),
    };
}

/// <summary>Every type a schema can use (its own and its imports'), by full name, with where it comes from.</summary>
internal sealed class ProtobufTypeIndex
{
    public ProtobufTypeIndex(ParsedProtobufSchema schema)
    {
        Prefix = schema.Package.Length == 0 ? string.Empty : schema.Package + ".";
        foreach (var file in schema.Files)
        {
            // Reference identity: "" for the schema's own file, subject and version for a
            // referenced one, null for files known without references (well-known types).
            var reference = file.Name == ProtoFileLoader.RootFileName ? string.Empty
                : schema.References.LastOrDefault(r => r.Name == file.Name) is { } r ? $"{r.Subject}\n{r.Version}" : null;
            var package = file.Package ?? string.Empty;
            var prefix = package.Length == 0 ? string.Empty : package + ".";
            Add(prefix, file.MessageTypes, file.EnumTypes, new TypeOrigin(null!, package, reference, file.Syntax == "proto3"));
        }
    }

    /// <summary>The schema's package with a trailing dot ("" without a package).</summary>
    public string Prefix { get; }

    public Dictionary<string, TypeOrigin> Types { get; } = new(StringComparer.Ordinal);

    public bool IsProto3(string fullName) => Types[fullName].Proto3;

    public bool IsMapEntry(string fullName) => Types[fullName].Type is DescriptorProto { Options.MapEntry: true };

    public (FieldDescriptorProto Key, FieldDescriptorProto Value) MapEntry(string fullName)
    {
        var entry = (DescriptorProto)Types[fullName].Type;
        return (entry.Fields.Single(f => f.Number == 1), entry.Fields.Single(f => f.Number == 2));
    }

    private void Add(string prefix, List<DescriptorProto> messages, List<EnumDescriptorProto> enums, TypeOrigin origin)
    {
        foreach (var enumType in enums)
        {
            Types[prefix + enumType.Name] = origin with { Type = enumType };
        }

        foreach (var message in messages)
        {
            Types[prefix + message.Name] = origin with { Type = message };
            Add(prefix + message.Name + ".", message.NestedTypes, message.EnumTypes, origin);
        }
    }
}

/// <summary>A type's descriptor and the file it is declared in.</summary>
internal sealed record TypeOrigin(object Type, string Package, string? Reference, bool Proto3);
