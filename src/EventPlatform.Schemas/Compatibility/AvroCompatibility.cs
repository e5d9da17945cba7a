namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// Avro schema compatibility by the specification's "Schema Resolution" rules (Avro 1.11/1.12):
/// whether a reader schema can read data written with a writer schema, and if not, every reason why.
/// </summary>
public static class AvroCompatibility
{
    /// <summary>
    /// Checks a new schema against a subject's previous schemas at a Confluent compatibility level.
    /// </summary>
    /// <param name="level">The level; non-transitive levels check only the latest previous schema.</param>
    /// <param name="newSchema">The schema being registered.</param>
    /// <param name="previousSchemas">The earlier versions, oldest first.</param>
    /// <returns>All incompatibilities; messages say which previous version and which direction failed.</returns>
    public static CompatibilityResult Check(CompatibilityLevel level, AvroSchema newSchema, IReadOnlyList<AvroSchema> previousSchemas)
    {
        ArgumentNullException.ThrowIfNull(newSchema);
        ArgumentNullException.ThrowIfNull(previousSchemas);
        if (!Enum.IsDefined(level))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "Unknown compatibility level.");
        }

        if (level == CompatibilityLevel.NONE || previousSchemas.Count == 0)
        {
            return CompatibilityResult.Compatible;
        }

        var transitive = level is CompatibilityLevel.BACKWARD_TRANSITIVE or CompatibilityLevel.FORWARD_TRANSITIVE or CompatibilityLevel.FULL_TRANSITIVE;
        var backward = level is CompatibilityLevel.BACKWARD or CompatibilityLevel.BACKWARD_TRANSITIVE or CompatibilityLevel.FULL or CompatibilityLevel.FULL_TRANSITIVE;
        var forward = level is CompatibilityLevel.FORWARD or CompatibilityLevel.FORWARD_TRANSITIVE or CompatibilityLevel.FULL or CompatibilityLevel.FULL_TRANSITIVE;

        var found = new List<AvroIncompatibility>();
        var first = transitive ? 0 : previousSchemas.Count - 1;
        for (var i = first; i < previousSchemas.Count; i++)
        {
            var version = $"previous schema {i + 1} of {previousSchemas.Count}";
            if (backward)
            {
                found.AddRange(CanRead(newSchema, previousSchemas[i]).Incompatibilities
                    .Select(x => x with { Message = $"The new schema cannot read data written with the {version}: {x.Message}" }));
            }

            if (forward)
            {
                found.AddRange(CanRead(previousSchemas[i], newSchema).Incompatibilities
                    .Select(x => x with { Message = $"The {version} cannot read data written with the new schema: {x.Message}" }));
            }
        }

        return found.Count == 0 ? CompatibilityResult.Compatible : new CompatibilityResult(found);
    }

    /// <summary>
    /// <see cref="Check(CompatibilityLevel, AvroSchema, IReadOnlyList{AvroSchema})"/> on schema JSON texts.
    /// </summary>
    /// <exception cref="AvroSchemaParseException">A text is not a valid Avro schema.</exception>
    public static CompatibilityResult Check(CompatibilityLevel level, string newSchema, IReadOnlyList<string> previousSchemas)
    {
        ArgumentNullException.ThrowIfNull(previousSchemas);
        return Check(level, AvroSchema.Parse(newSchema), previousSchemas.Select(AvroSchema.Parse).ToList());
    }

    /// <summary>Whether a reader with <paramref name="reader"/> can read data written with <paramref name="writer"/>.</summary>
    /// <returns>Every incompatibility, located in the reader schema.</returns>
    public static CompatibilityResult CanRead(AvroSchema reader, AvroSchema writer)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        var found = new List<AvroIncompatibility>();
        new Checker().Resolve(reader, writer, "", found);
        return found.Count == 0
            ? CompatibilityResult.Compatible
            : new CompatibilityResult(found.Select(Finish).ToList());
    }

    // Root location "/", and messages that start with the field they are about (the record's
    // fields along the location, dotted), so a reader of the message need not decode the path.
    private static AvroIncompatibility Finish(AvroIncompatibility found)
    {
        if (found.Location.Length == 0)
        {
            return found with { Location = "/", Message = "schema root: " + found.Message };
        }

        var segments = found.Location.Split('/');
        var fields = segments.Select((s, i) => (s, i)).Where(p => p.i > 0 && segments[p.i - 1] == "fields").Select(p => p.s).ToList();
        return fields.Count == 0 || (found.Kind == AvroIncompatibilityKind.READER_FIELD_MISSING_DEFAULT_VALUE && fields.Count == 1)
            ? found
            : found with { Message = $"field '{string.Join('.', fields)}': {found.Message}" };
    }

    private sealed class Checker
    {
        // A pair of records met again inside itself (a recursive schema) is taken as readable there:
        // its problems are reported where the pair first appeared. Results per record pair are kept,
        // so a record reused in many places is resolved once (no blow-up on shared types).
        private readonly HashSet<(AvroRecordSchema Reader, AvroRecordSchema Writer)> _inProgress = new(PairComparer.Instance);
        private readonly Dictionary<(AvroRecordSchema Reader, AvroRecordSchema Writer), List<AvroIncompatibility>> _done = new(PairComparer.Instance);

        // Types nest into types across references without bound on the graph's depth: cap the walk.
        private int _depth;

        public void Resolve(AvroSchema reader, AvroSchema writer, string path, List<AvroIncompatibility> found)
        {
            if (++_depth > SchemaLimits.MaxNestingDepth)
            {
                throw SchemaLimits.TooDeep($"Avro types nested in types, at '{path}'");
            }

            SchemaLimits.EnsureStack("comparing Avro schemas");
            try
            {
                ResolveWritten(reader, writer, path, found);
            }
            finally
            {
                _depth--;
            }
        }

        private void ResolveWritten(AvroSchema reader, AvroSchema writer, string path, List<AvroIncompatibility> found)
        {
            if (writer is AvroUnionSchema writerUnion)
            {
                // Data written with a union can be any branch: each must be readable.
                for (var i = 0; i < writerUnion.Branches.Count; i++)
                {
                    ResolveBranch(reader, writerUnion.Branches[i], $"{path}/{i}", found);
                }

                return;
            }

            ResolveBranch(reader, writer, path, found);
        }

        private void ResolveBranch(AvroSchema reader, AvroSchema writer, string path, List<AvroIncompatibility> found)
        {
            if (reader is AvroUnionSchema readerUnion)
            {
                // The specification: the first reader branch that matches the writer's type is used.
                var branch = readerUnion.Branches.FirstOrDefault(b => Matches(b, writer));
                if (branch is null)
                {
                    found.Add(new(AvroIncompatibilityKind.MISSING_UNION_BRANCH, path,
                        $"the reader's {reader.Describe()} has no branch that can read the writer's {writer.Describe()}"));
                    return;
                }

                ResolveBranch(branch, writer, path, found);
                return;
            }

            switch (reader, writer)
            {
                case (AvroRecordSchema r, AvroRecordSchema w):
                    if (CheckName(r, w, path, found))
                    {
                        found.AddRange(ResolveRecord(r, w).Select(x => x with { Location = path + x.Location }));
                    }

                    return;
                case (AvroEnumSchema r, AvroEnumSchema w):
                    if (CheckName(r, w, path, found))
                    {
                        ResolveEnum(r, w, path, found);
                    }

                    return;
                case (AvroFixedSchema r, AvroFixedSchema w):
                    if (CheckName(r, w, path, found) && r.Size != w.Size)
                    {
                        found.Add(new(AvroIncompatibilityKind.FIXED_SIZE_MISMATCH, path + "/size",
                            $"the reader's {r.Describe()} has {r.Size} bytes but the writer's has {w.Size}"));
                    }

                    return;
                case (AvroArraySchema r, AvroArraySchema w):
                    Resolve(r.Items, w.Items, path + "/items", found);
                    return;
                case (AvroMapSchema r, AvroMapSchema w):
                    Resolve(r.Values, w.Values, path + "/values", found);
                    return;
                case (AvroPrimitiveSchema r, AvroPrimitiveSchema w) when r.TypeName == w.TypeName || Promotes(w.TypeName, r.TypeName):
                    return;
                default:
                    found.Add(new(AvroIncompatibilityKind.TYPE_MISMATCH, path,
                        $"the reader's type {reader.Describe()} cannot read the writer's type {writer.Describe()}"));
                    return;
            }
        }

        // The record pair's problems, located relative to the record.
        private List<AvroIncompatibility> ResolveRecord(AvroRecordSchema reader, AvroRecordSchema writer)
        {
            if (_done.TryGetValue((reader, writer), out var known))
            {
                return known;
            }

            if (!_inProgress.Add((reader, writer)))
            {
                return [];
            }

            var found = new List<AvroIncompatibility>();

            // Writer fields the reader lacks are skipped; reader fields the writer lacks need a default.
            // Looked up by name: records of 100,000 fields must not cost 10^10 comparisons.
            var writerFields = FieldIndex.Of(writer.Fields);
            foreach (var field in reader.Fields)
            {
                var written = writerFields.Find(field, taken: null);
                if (written is not null)
                {
                    Resolve(field.Type, written.Type, $"/fields/{field.Name}/type", found);
                }
                else if (!field.HasDefault)
                {
                    found.Add(new(AvroIncompatibilityKind.READER_FIELD_MISSING_DEFAULT_VALUE, $"/fields/{field.Name}",
                        $"field '{field.Name}' of the reader's {reader.Describe()} has no default value and the writer's record has no such field"));
                }
            }

            _inProgress.Remove((reader, writer));
            _done[(reader, writer)] = found;
            return found;
        }

        private static void ResolveEnum(AvroEnumSchema reader, AvroEnumSchema writer, string path, List<AvroIncompatibility> found)
        {
            if (reader.Default is not null)
            {
                return;
            }

            var readerSymbols = reader.Symbols.ToHashSet(StringComparer.Ordinal);
            var missing = writer.Symbols.Where(s => !readerSymbols.Contains(s)).ToList();
            if (missing.Count > 0)
            {
                found.Add(new(AvroIncompatibilityKind.MISSING_ENUM_SYMBOLS, path + "/symbols",
                    $"the reader's {reader.Describe()} lacks the writer's symbols [{string.Join(", ", missing)}] and has no default symbol"));
            }
        }

        private static bool CheckName(AvroNamedSchema reader, AvroNamedSchema writer, string path, List<AvroIncompatibility> found)
        {
            if (NamesMatch(reader, writer))
            {
                return true;
            }

            found.Add(new(AvroIncompatibilityKind.NAME_MISMATCH, path + "/name",
                $"the reader's {reader.Describe()} does not match the writer's {writer.Describe()} by name or alias"));
            return false;
        }
    }

    // The specification's "match" for choosing a reader union branch: same kind and name, or a
    // promotion; arrays and maps match when their item (value) types do, which may be unions.
    internal static bool Matches(AvroSchema reader, AvroSchema writer) => (reader, writer) switch
    {
        (_, AvroUnionSchema w) => w.Branches.All(b => Matches(reader, b)),
        (AvroUnionSchema r, _) => r.Branches.Any(b => Matches(b, writer)),
        (AvroRecordSchema r, AvroRecordSchema w) => NamesMatch(r, w),
        (AvroEnumSchema r, AvroEnumSchema w) => NamesMatch(r, w),
        (AvroFixedSchema r, AvroFixedSchema w) => NamesMatch(r, w) && r.Size == w.Size,
        (AvroArraySchema r, AvroArraySchema w) => Matches(r.Items, w.Items),
        (AvroMapSchema r, AvroMapSchema w) => Matches(r.Values, w.Values),
        (AvroPrimitiveSchema r, AvroPrimitiveSchema w) => r.TypeName == w.TypeName || Promotes(w.TypeName, r.TypeName),
        _ => false,
    };

    // As the specification (and Avro's Java SchemaCompatibility) has it: the unqualified names are
    // equal, or one of the reader's aliases is the writer's full name.
    internal static bool NamesMatch(AvroNamedSchema reader, AvroNamedSchema writer) =>
        reader.Name == writer.Name || reader.Aliases.Contains(writer.FullName, StringComparer.Ordinal);

    internal static bool Promotes(string writer, string reader) => (writer, reader) switch
    {
        ("int", "long" or "float" or "double") => true,
        ("long", "float" or "double") => true,
        ("float", "double") => true,
        ("string", "bytes") or ("bytes", "string") => true,
        _ => false,
    };

    private sealed class PairComparer : IEqualityComparer<(AvroRecordSchema Reader, AvroRecordSchema Writer)>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals((AvroRecordSchema Reader, AvroRecordSchema Writer) x, (AvroRecordSchema Reader, AvroRecordSchema Writer) y) =>
            ReferenceEquals(x.Reader, y.Reader) && ReferenceEquals(x.Writer, y.Writer);

        public int GetHashCode((AvroRecordSchema Reader, AvroRecordSchema Writer) obj) =>
            HashCode.Combine(
                System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Reader),
                System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Writer));
    }
}
