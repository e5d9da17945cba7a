using Google.Protobuf.Reflection;
using FieldType = Google.Protobuf.Reflection.FieldDescriptorProto.Type;
using Label = Google.Protobuf.Reflection.FieldDescriptorProto.Label;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// Confluent's Protobuf compatibility rules (io.confluent.kafka.schemaregistry.protobuf.diff):
/// the writer's schema is Confluent's "original", the reader's the "update". Messages are matched
/// by name, fields by number, and only the differences Confluent counts as incompatible are
/// reported (removing or renaming a field, adding one, enum changes and moves are compatible).
/// </summary>
internal sealed partial class ProtobufCompatibility
{
    private readonly ProtobufTypeIndex _original;
    private readonly ProtobufTypeIndex _update;
    private readonly HashSet<DescriptorProto> _inProgress;
    private readonly Walk _walk;
    private readonly List<string> _path;
    private readonly List<SchemaIncompatibility> _found = [];

    private ProtobufCompatibility(ProtobufTypeIndex original, ProtobufTypeIndex update, HashSet<DescriptorProto> inProgress, Walk walk, IEnumerable<string> path)
    {
        _original = original;
        _update = update;
        _inProgress = inProgress;
        _walk = walk;
        _path = [.. path];
    }

    public static IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedProtobufSchema reader, ParsedProtobufSchema writer)
    {
        var original = new ProtobufTypeIndex(writer);
        var update = new ProtobufTypeIndex(reader);
        var diff = new ProtobufCompatibility(original, update, new(ReferenceEqualityComparer.Instance), new Walk(), []);
        if (writer.Package != reader.Package)
        {
            diff.Add("PACKAGE_CHANGED", $"The package changed from '{writer.Package}' to '{reader.Package}'.");
        }

        diff.CompareMessages(writer.File.MessageTypes, original.Prefix, reader.File.MessageTypes, update.Prefix);
        return diff._found;
    }

    /// <summary>The messages of one scope, matched by name (map entries are part of their fields).</summary>
    private void CompareMessages(List<DescriptorProto> original, string originalScope, List<DescriptorProto> update, string updateScope)
    {
        var originalByName = original.Where(m => m.Options?.MapEntry != true).ToDictionary(m => m.Name);
        var updateByName = update.Where(m => m.Options?.MapEntry != true).ToDictionary(m => m.Name);
        foreach (var (name, originalMessage) in originalByName.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            _path.Add(name);
            if (updateByName.TryGetValue(name, out var updateMessage))
            {
                CompareMessage(originalMessage, originalScope + name, updateMessage, updateScope + name);
            }
            else
            {
                Add("MESSAGE_REMOVED", $"Message '{name}' was removed: data written with it cannot be read.");
            }

            _path.RemoveAt(_path.Count - 1);
        }
    }

    private void CompareMessage(DescriptorProto original, string originalName, DescriptorProto update, string updateName)
    {
        // Field types lead from message to message (a chain of 20,000, or two fields of the next type
        // at every step): bounded in depth and in total work.
        if (++_walk.Steps > SchemaLimits.MaxComparisonSteps)
        {
            throw SchemaLimits.TooComplexToCompare();
        }

        if (++_walk.Depth > SchemaLimits.MaxNestingDepth)
        {
            throw SchemaLimits.TooDeep($"messages and message-typed fields, comparing {originalName}");
        }

        SchemaLimits.EnsureStack("comparing Protobuf schemas");
        try
        {
            // A message that refers to itself is compared once.
            if (_inProgress.Add(original))
            {
                try
                {
                    CompareFields(original, _original.IsProto3(originalName), update, _update.IsProto3(updateName));
                }
                finally
                {
                    _inProgress.Remove(original);
                }
            }

            CompareMessages(original.NestedTypes, originalName + ".", update.NestedTypes, updateName + ".");
        }
        finally
        {
            _walk.Depth--;
        }
    }

    /// <summary>How far and how long one comparison has walked (shared by the nested comparisons of field types).</summary>
    private sealed class Walk
    {
        public int Depth { get; set; }

        public int Steps { get; set; }
    }

    private void CompareFields(DescriptorProto original, bool originalProto3, DescriptorProto update, bool updateProto3)
    {
        var originalFields = new MessageFields(original);
        var updateFields = new MessageFields(update);
        CheckNewMutualExclusions(originalFields, updateFields);
        foreach (var number in originalFields.ByNumber.Keys.Union(updateFields.ByNumber.Keys).Order())
        {
            var originalField = originalFields.ByNumber.GetValueOrDefault(number);
            var updateField = updateFields.ByNumber.GetValueOrDefault(number);
            var originalOneof = originalFields.OneofOf(number);
            var updateOneof = updateFields.OneofOf(number);
            if (updateField is null)
            {
                FieldRemoved(originalField!, originalOneof, originalFields, updateFields);
            }
            else if (originalField is null)
            {
                if (updateOneof is null && updateField.label == Label.LabelRequired)
                {
                    AddAt([Number(number)], "REQUIRED_FIELD_ADDED", $"Required field {Describe(updateField)} was added: data written without it cannot be read.");
                }
            }
            else
            {
                string[] where = updateOneof is null ? [Number(number)] : [updateOneof, Number(number)];
                _path.AddRange(where);
                CompareLabelsAndTypes(
                    Describe(updateField),
                    Typed(originalField, originalProto3, originalOneof is not null),
                    Typed(updateField, updateProto3, updateOneof is not null));
                _path.RemoveRange(_path.Count - where.Length, where.Length);
            }
        }
    }

    private void FieldRemoved(FieldDescriptorProto field, string? oneof, MessageFields original, MessageFields update)
    {
        if (oneof is null)
        {
            if (field.label == Label.LabelRequired)
            {
                AddAt([Number(field.Number)], "REQUIRED_FIELD_REMOVED", $"Required field {Describe(field)} was removed.");
            }

            return;
        }

        // Removing a whole oneof (no member left anywhere) is compatible; removing some members is not.
        var wholeOneofDeleted = !update.Oneofs.ContainsKey(oneof)
            && original.Oneofs[oneof].All(n => !update.ByNumber.ContainsKey(n));
        if (!wholeOneofDeleted)
        {
            AddAt([oneof, Number(field.Number)], "ONEOF_FIELD_REMOVED", $"Field {Describe(field)} of oneof '{oneof}' was removed.");
        }
    }

    /// <summary>A reader oneof whose existing members were independent fields (or in different oneofs) in the writer.</summary>
    private void CheckNewMutualExclusions(MessageFields original, MessageFields update)
    {
        foreach (var (oneof, members) in update.Oneofs)
        {
            var origins = new HashSet<string>();
            var movedIn = 0;
            foreach (var number in members)
            {
                if (original.OneofOf(number) is { } originalOneof)
                {
                    origins.Add("oneof:" + originalOneof);
                }
                else if (original.ByNumber.ContainsKey(number))
                {
                    origins.Add("field:" + Number(number));
                    movedIn++;
                }
            }

            if (origins.Count > 1)
            {
                var (kind, what) = movedIn > 1
                    ? ("MULTIPLE_FIELDS_MOVED_TO_ONEOF", "several fields that could be set together")
                    : ("FIELD_MOVED_TO_EXISTING_ONEOF", "a field that was outside it");
                AddAt([oneof], kind, $"Oneof '{oneof}' now holds {what}: data with more than one of them set cannot be read.");
            }
        }
    }

    private void AddAt(string[] where, string kind, string message)
    {
        _path.AddRange(where);
        Add(kind, message);
        _path.RemoveRange(_path.Count - where.Length, where.Length);
    }

    private void Add(string kind, string message) =>
        _found.Add(new SchemaIncompatibility(kind, "#/" + string.Join("/", _path), message));

    private static string Describe(FieldDescriptorProto field) => $"'{field.Name}' ({Number(field.Number)})";

    private static string Number(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A message's fields by number and its declared (non-synthetic) oneofs' members.</summary>
    private sealed class MessageFields
    {
        private readonly Dictionary<int, string> _oneofByNumber = [];

        public MessageFields(DescriptorProto message)
        {
            ByNumber = message.Fields.ToDictionary(f => f.Number);
            foreach (var field in message.Fields.Where(ProtoTextWriter.IsRealOneofMember))
            {
                var oneof = message.OneofDecls[field.OneofIndex].Name;
                _oneofByNumber[field.Number] = oneof;
                Oneofs.TryAdd(oneof, []);
                Oneofs[oneof].Add(field.Number);
            }
        }

        public Dictionary<int, FieldDescriptorProto> ByNumber { get; }

        public Dictionary<string, List<int>> Oneofs { get; } = [];

        public string? OneofOf(int number) => _oneofByNumber.GetValueOrDefault(number);
    }
}
