using Google.Protobuf.Reflection;
using Label = Google.Protobuf.Reflection.FieldDescriptorProto.Label;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>Builds the codec's descriptors from parsed files, resolving types across imports.</summary>
internal sealed class ProtobufDescriptorBuilder
{
    private readonly Dictionary<string, ProtobufMessageDescriptor> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProtobufEnumDescriptor> _enums = new(StringComparer.Ordinal);
    private readonly List<(DescriptorProto Proto, ProtobufMessageDescriptor Descriptor, bool Proto3)> _pending = [];

    /// <summary>The root file's top-level messages, every type reachable from the files resolved.</summary>
    public static IReadOnlyList<ProtobufMessageDescriptor> Build(IReadOnlyList<FileDescriptorProto> files, FileDescriptorProto root)
    {
        var builder = new ProtobufDescriptorBuilder();
        foreach (var file in files)
        {
            var prefix = string.IsNullOrEmpty(file.Package) ? string.Empty : file.Package + ".";
            builder.Declare(prefix, file.MessageTypes, file.EnumTypes, file.Syntax == "proto3");
        }

        foreach (var (proto, descriptor, proto3) in builder._pending)
        {
            builder.Complete(proto, descriptor, proto3);
        }

        var rootPrefix = string.IsNullOrEmpty(root.Package) ? string.Empty : root.Package + ".";
        return root.MessageTypes.Select(m => builder._messages[rootPrefix + m.Name]).ToList();
    }

    private void Declare(string prefix, List<DescriptorProto> messages, List<EnumDescriptorProto> enums, bool proto3)
    {
        foreach (var enumType in enums)
        {
            var fullName = prefix + enumType.Name;
            _enums[fullName] = new ProtobufEnumDescriptor(fullName, enumType.Values.Select(v => (v.Name, v.Number)));
        }

        foreach (var message in messages)
        {
            var fullName = prefix + message.Name;
            var descriptor = new ProtobufMessageDescriptor(fullName, message.Name, message.Options?.MapEntry == true, WellKnown(fullName));
            _messages[fullName] = descriptor;
            _pending.Add((message, descriptor, proto3));
            Declare(fullName + ".", message.NestedTypes, message.EnumTypes, proto3);
        }
    }

    private void Complete(DescriptorProto proto, ProtobufMessageDescriptor descriptor, bool proto3)
    {
        var realOneofs = new List<string>();
        var oneofIndexes = new Dictionary<int, int>();
        foreach (var field in proto.Fields.Where(ProtoTextWriter.IsRealOneofMember))
        {
            if (!oneofIndexes.ContainsKey(field.OneofIndex))
            {
                oneofIndexes[field.OneofIndex] = realOneofs.Count;
                realOneofs.Add(proto.OneofDecls[field.OneofIndex].Name);
            }
        }

        var fields = proto.Fields.Select(f => BuildField(f, proto3, oneofIndexes)).ToList();
        var nested = proto.NestedTypes.Select(n => _messages[descriptor.FullName + "." + n.Name]).ToList();
        descriptor.Complete(fields, nested, realOneofs);
    }

    private ProtobufFieldDescriptor BuildField(FieldDescriptorProto proto, bool proto3, Dictionary<int, int> oneofIndexes)
    {
        var type = (ProtobufFieldType)(int)proto.type;
        var repeated = proto.label == Label.LabelRepeated;
        var oneof = ProtoTextWriter.IsRealOneofMember(proto) ? oneofIndexes[proto.OneofIndex] : -1;
        var packable = repeated && type is not (ProtobufFieldType.String or ProtobufFieldType.Bytes or ProtobufFieldType.Message or ProtobufFieldType.Group);
        var packed = packable && (proto.Options?.ShouldSerializePacked() == true ? proto.Options.Packed : proto3);
        var presence = !repeated && (!proto3 || proto.Proto3Optional || oneof >= 0 || type == ProtobufFieldType.Message);
        var jsonName = string.IsNullOrEmpty(proto.JsonName) ? ProtoTextWriter.DefaultJsonName(proto.Name) : proto.JsonName;
        var field = new ProtobufFieldDescriptor(proto.Name, proto.Number, type, repeated, packed, presence, oneof, jsonName);
        var typeName = proto.TypeName.TrimStart('.');
        if (type == ProtobufFieldType.Message)
        {
            field.MessageType = _messages[typeName];
        }
        else if (type == ProtobufFieldType.Enum)
        {
            field.EnumType = _enums[typeName];
        }

        return field;
    }

    private static ProtobufWellKnownType WellKnown(string fullName) => fullName switch
    {
        "google.protobuf.Timestamp" => ProtobufWellKnownType.Timestamp,
        "google.protobuf.Duration" => ProtobufWellKnownType.Duration,
        "google.protobuf.Struct" => ProtobufWellKnownType.Struct,
        "google.protobuf.Value" => ProtobufWellKnownType.Value,
        "google.protobuf.ListValue" => ProtobufWellKnownType.ListValue,
        "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" or "google.protobuf.Int64Value"
            or "google.protobuf.UInt64Value" or "google.protobuf.Int32Value" or "google.protobuf.UInt32Value"
            or "google.protobuf.BoolValue" or "google.protobuf.StringValue" or "google.protobuf.BytesValue"
            => ProtobufWellKnownType.Wrapper,
        _ => ProtobufWellKnownType.None,
    };
}
