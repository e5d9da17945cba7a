using System.Collections.Frozen;
using System.Text.Json;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// One message type, precomputed for the codec: fields by number and by name, resolved message
/// and enum types. Immutable once built, so it is shared by all threads.
/// </summary>
public sealed class ProtobufMessageDescriptor
{
    // Field numbers up to this are looked up in an array; larger ones in a dictionary.
    private const int DenseLimit = 1024;

    private ProtobufFieldDescriptor?[] _byNumber = [];
    private FrozenDictionary<int, ProtobufFieldDescriptor> _sparse = FrozenDictionary<int, ProtobufFieldDescriptor>.Empty;
    private FrozenDictionary<string, ProtobufFieldDescriptor> _byName = FrozenDictionary<string, ProtobufFieldDescriptor>.Empty;

    internal ProtobufMessageDescriptor(string fullName, string name, bool isMapEntry, ProtobufWellKnownType wellKnownType)
    {
        FullName = fullName;
        Name = name;
        IsMapEntry = isMapEntry;
        WellKnownType = wellKnownType;
    }

    /// <summary>The full name without a leading dot, e.g. <c>com.platform.events.Event</c>.</summary>
    public string FullName { get; }

    /// <summary>The simple name, e.g. <c>Event</c>.</summary>
    public string Name { get; }

    /// <summary>True for a map field's synthetic entry message (key = 1, value = 2).</summary>
    public bool IsMapEntry { get; }

    /// <summary>Which well-known type this is, if any.</summary>
    public ProtobufWellKnownType WellKnownType { get; }

    /// <summary>The fields in declaration order.</summary>
    public IReadOnlyList<ProtobufFieldDescriptor> Fields { get; private set; } = [];

    /// <summary>The nested messages in declaration order (map entries included, as in descriptors).</summary>
    public IReadOnlyList<ProtobufMessageDescriptor> NestedMessages { get; private set; } = [];

    /// <summary>The names of the message's (non-synthetic) oneofs, by oneof index.</summary>
    public IReadOnlyList<string> Oneofs { get; private set; } = [];

    /// <summary>The field with this number, or null.</summary>
    public ProtobufFieldDescriptor? FindFieldByNumber(int number) =>
        (uint)number < (uint)_byNumber.Length ? _byNumber[number] : _sparse.GetValueOrDefault(number);

    /// <summary>The field with this .proto name or JSON (lowerCamelCase) name, or null.</summary>
    public ProtobufFieldDescriptor? FindFieldByName(string name) => _byName.GetValueOrDefault(name);

    /// <inheritdoc/>
    public override string ToString() => FullName;

    internal void Complete(
        IReadOnlyList<ProtobufFieldDescriptor> fields,
        IReadOnlyList<ProtobufMessageDescriptor> nested,
        IReadOnlyList<string> oneofs)
    {
        Fields = fields;
        for (var i = 0; i < fields.Count; i++)
        {
            fields[i].Index = i;
        }

        NestedMessages = nested;
        Oneofs = oneofs;
        var maxDense = fields.Where(f => f.Number < DenseLimit).Select(f => f.Number).DefaultIfEmpty(0).Max();
        _byNumber = new ProtobufFieldDescriptor?[maxDense + 1];
        foreach (var field in fields.Where(f => f.Number < DenseLimit))
        {
            _byNumber[field.Number] = field;
        }

        _sparse = fields.Where(f => f.Number >= DenseLimit).ToFrozenDictionary(f => f.Number);
        var names = new Dictionary<string, ProtobufFieldDescriptor>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            names.TryAdd(field.JsonName, field);
        }

        // Declared names win over JSON names when they collide.
        foreach (var field in fields)
        {
            names[field.Name] = field;
        }

        _byName = names.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>One field of a <see cref="ProtobufMessageDescriptor"/>.</summary>
public sealed class ProtobufFieldDescriptor
{
    internal ProtobufFieldDescriptor(
        string name, int number, ProtobufFieldType type, bool isRepeated, bool isPacked, bool hasPresence, int oneofIndex, string jsonName)
    {
        Name = name;
        Number = number;
        Type = type;
        IsRepeated = isRepeated;
        IsPacked = isPacked;
        HasPresence = hasPresence;
        OneofIndex = oneofIndex;
        JsonName = jsonName;
        EncodedName = JsonEncodedText.Encode(name);
        WireType = WireTypeOf(type);
    }

    /// <summary>The name as declared in the .proto file (also the JSON property name the codec writes).</summary>
    public string Name { get; }

    /// <summary>The field number.</summary>
    public int Number { get; }

    /// <summary>The declared type.</summary>
    public ProtobufFieldType Type { get; }

    /// <summary>True for repeated fields (maps included).</summary>
    public bool IsRepeated { get; }

    /// <summary>True when the codec writes this repeated scalar packed (proto3 default, proto2 <c>[packed = true]</c>).</summary>
    public bool IsPacked { get; }

    /// <summary>True when an explicitly set default value is kept (proto2, proto3 <c>optional</c>, oneof members, messages).</summary>
    public bool HasPresence { get; }

    /// <summary>The index of the field's oneof in <see cref="ProtobufMessageDescriptor.Oneofs"/>, or -1.</summary>
    public int OneofIndex { get; }

    /// <summary>protoc's lowerCamelCase JSON name (accepted when encoding).</summary>
    public string JsonName { get; }

    /// <summary>The message type of a message or map field, else null.</summary>
    public ProtobufMessageDescriptor? MessageType { get; internal set; }

    /// <summary>The enum type of an enum field, else null.</summary>
    public ProtobufEnumDescriptor? EnumType { get; internal set; }

    /// <summary>True for a map field (repeated entry message).</summary>
    public bool IsMap => IsRepeated && MessageType is { IsMapEntry: true };

    /// <summary>The field's position in <see cref="ProtobufMessageDescriptor.Fields"/>.</summary>
    internal int Index { get; set; }

    /// <summary>The name, pre-encoded for <see cref="Utf8JsonWriter"/>.</summary>
    internal JsonEncodedText EncodedName { get; }

    /// <summary>The wire type of one unpacked value.</summary>
    internal WireType WireType { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} = {Number}";

    private static WireType WireTypeOf(ProtobufFieldType type) => type switch
    {
        ProtobufFieldType.Double or ProtobufFieldType.Fixed64 or ProtobufFieldType.SFixed64 => WireType.Fixed64,
        ProtobufFieldType.Float or ProtobufFieldType.Fixed32 or ProtobufFieldType.SFixed32 => WireType.Fixed32,
        ProtobufFieldType.String or ProtobufFieldType.Bytes or ProtobufFieldType.Message => WireType.LengthDelimited,
        ProtobufFieldType.Group => WireType.StartGroup,
        _ => WireType.Varint,
    };
}

/// <summary>An enum type: value names by number and numbers by name.</summary>
public sealed class ProtobufEnumDescriptor
{
    private readonly FrozenDictionary<int, string> _names;
    private readonly FrozenDictionary<int, JsonEncodedText> _encodedNames;
    private readonly FrozenDictionary<string, int> _numbers;

    internal ProtobufEnumDescriptor(string fullName, IEnumerable<(string Name, int Number)> values)
    {
        FullName = fullName;
        var list = values.ToList();
        // With allow_alias the first name of a number is the one JSON uses.
        _names = list.DistinctBy(v => v.Number).ToFrozenDictionary(v => v.Number, v => v.Name);
        _encodedNames = _names.ToFrozenDictionary(v => v.Key, v => JsonEncodedText.Encode(v.Value));
        _numbers = list.ToFrozenDictionary(v => v.Name, v => v.Number, StringComparer.Ordinal);
    }

    /// <summary>The full name without a leading dot.</summary>
    public string FullName { get; }

    /// <summary>The number of the value with this name.</summary>
    public bool TryGetNumber(string name, out int number) => _numbers.TryGetValue(name, out number);

    /// <summary>The name of the value with this number.</summary>
    public bool TryGetName(int number, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string name) =>
        _names.TryGetValue(number, out name);

    internal bool TryGetEncodedName(int number, out JsonEncodedText name) => _encodedNames.TryGetValue(number, out name);
}
