using static EventPlatform.Schemas.JsonSchemas.DifferenceType;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>Sentences for incompatible differences: which property, and why old data may not fit the reader.</summary>
internal static class DifferenceMessages
{
    public static string Describe(DifferenceType type, string location)
    {
        var keyword = location[(location.LastIndexOf('/') + 1)..];
        return $"{Subject(location)}: {Reason(type, keyword)}";
    }

    private static string Reason(DifferenceType type, string keyword) => type switch
    {
        TYPE_CHANGED => "the reader's type differs from the writer's, so values written before do not fit",
        TYPE_NARROWED => "the reader accepts only integers where the writer allowed any number",
        SCHEMA_ADDED => $"the reader adds a '{keyword}' schema the writer did not have, which values written before may not match",
        MAX_LENGTH_ADDED or MIN_LENGTH_ADDED or PATTERN_ADDED or MAXIMUM_ADDED or MINIMUM_ADDED or EXCLUSIVE_MAXIMUM_ADDED
            or EXCLUSIVE_MINIMUM_ADDED or MULTIPLE_OF_ADDED or MAX_PROPERTIES_ADDED or MIN_PROPERTIES_ADDED or MAX_ITEMS_ADDED
            or MIN_ITEMS_ADDED or UNIQUE_ITEMS_ADDED =>
            $"the reader adds '{keyword}', which the writer did not have, so values written before may break it",
        MIN_LENGTH_INCREASED or MINIMUM_INCREASED or EXCLUSIVE_MINIMUM_INCREASED or MIN_PROPERTIES_INCREASED or MIN_ITEMS_INCREASED =>
            $"the reader raises '{keyword}' above the writer's, so smaller values written before are rejected",
        MAX_LENGTH_DECREASED or MAXIMUM_DECREASED or EXCLUSIVE_MAXIMUM_DECREASED or MAX_PROPERTIES_DECREASED or MAX_ITEMS_DECREASED =>
            $"the reader lowers '{keyword}' below the writer's, so larger values written before are rejected",
        PATTERN_CHANGED or MULTIPLE_OF_CHANGED or MULTIPLE_OF_EXPANDED =>
            $"the reader changes '{keyword}', so values written before may not satisfy it",
        ENUM_ARRAY_NARROWED => "the reader's enum lacks values the writer allowed",
        ENUM_ARRAY_CHANGED => $"the reader's {keyword} allows other values than the writer's",
        REQUIRED_ATTRIBUTE_ADDED => "the reader makes the property required without a default, but the writer had it optional",
        REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL =>
            "the reader requires this new property (without a default), which data written before does not have",
        REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL =>
            "the reader requires this new property (without a default); data written before may lack it or, the writer's content model being open, hold anything under its name",
        OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL or REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL =>
            "the reader adds this property, but the writer's content model is open (additionalProperties not false), so data written before may hold any value under its name",
        PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL =>
            "the reader removes this property and its content model is closed (additionalProperties false), so data written before with it is rejected",
        PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL =>
            "the reader removes this property and the schema its partially open content model gives extra properties does not accept the writer's values",
        PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL =>
            "the reader adds this property with a schema that does not accept what the writer's partially open content model allowed under its name",
        ADDITIONAL_PROPERTIES_REMOVED => "the reader forbids additional properties, which the writer allowed",
        ADDITIONAL_PROPERTIES_NARROWED => "the reader restricts additional properties to a schema where the writer allowed any",
        ADDITIONAL_ITEMS_REMOVED => "the reader forbids additional items, which the writer allowed",
        ADDITIONAL_ITEMS_NARROWED => "the reader restricts additional items to a schema where the writer allowed any",
        ITEM_ADDED_TO_OPEN_CONTENT_MODEL => "the reader adds a tuple item, but the writer allowed any value in that position",
        ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL => "the reader removes a tuple item and forbids additional items, so data written before is rejected",
        ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL or ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL =>
            "the tuple item's schema and the additionalItems schema do not accept the same values",
        DEPENDENCY_ARRAY_ADDED or DEPENDENCY_SCHEMA_ADDED => $"the reader adds a dependency on '{keyword}' that data written before may not satisfy",
        DEPENDENCY_ARRAY_EXTENDED or DEPENDENCY_ARRAY_CHANGED => $"the reader's dependency on '{keyword}' requires properties the writer's did not",
        COMBINED_TYPE_CHANGED => "the reader combines its subschemas differently (allOf/anyOf/oneOf) from the writer",
        COMBINED_TYPE_SUBSCHEMAS_CHANGED => "not every one of the writer's subschemas has a reader subschema that accepts its values",
        PRODUCT_TYPE_EXTENDED => "the reader's allOf has more subschemas, which values written before may not match",
        SUM_TYPE_NARROWED => "the reader's anyOf/oneOf has fewer subschemas, so values written with the others are rejected",
        NOT_TYPE_EXTENDED => "the reader's 'not' rejects values the writer's accepted",
        _ => $"{type} makes data written before unreadable",
    };

    /// <summary>"property 'customer.email'" from <c>#/properties/customer/properties/email</c>; the schema root otherwise.</summary>
    private static string Subject(string location)
    {
        var segments = location.Split('/');
        var names = new List<string>();
        for (var i = 1; i < segments.Length; i++)
        {
            if (segments[i] is "properties" or "required" && i + 1 < segments.Length)
            {
                names.Add(segments[++i].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
            }
            else if (segments[i] == "items" && names.Count > 0)
            {
                names[^1] += "[]";
            }
        }

        return names.Count > 0 ? $"property '{string.Join('.', names)}'" : $"schema at '{location}'";
    }
}
