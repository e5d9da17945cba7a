using System.Text.Json;
using EventPlatform.SchemaRegistry.Registry;

namespace EventPlatform.SchemaRegistry.Api;

/// <summary>
/// Checks the free-form JSON a request carries (<c>metadata</c>, <c>ruleSet</c>): the deserializer keeps
/// it as raw bytes, invalid UTF-8 and lone surrogates (<c>"\ud800"</c>) included, and reading such a
/// string later throws <see cref="InvalidOperationException"/> deep in the store. Refused here as a 400.
/// </summary>
internal static class RequestText
{
    public static void EnsureValid(JsonElement? element, string field)
    {
        if (element is not { } root)
        {
            return;
        }

        // Iterative: the deserializer already bounds the depth, but the walk need not rely on it.
        var pending = new Stack<JsonElement>();
        pending.Push(root);
        try
        {
            while (pending.TryPop(out var value))
            {
                switch (value.ValueKind)
                {
                    case JsonValueKind.Object:
                        foreach (var property in value.EnumerateObject())
                        {
                            _ = property.Name;
                            pending.Push(property.Value);
                        }

                        break;
                    case JsonValueKind.Array:
                        foreach (var item in value.EnumerateArray())
                        {
                            pending.Push(item);
                        }

                        break;
                    case JsonValueKind.String:
                        _ = value.GetString();
                        break;
                    case JsonValueKind.Number when !double.IsFinite(value.GetDouble()):
                        throw RegistryErrors.BadRequest($"Invalid JSON in the request body: '{field}' holds a number out of range");
                }
            }
        }
        catch (InvalidOperationException)
        {
            throw RegistryErrors.BadRequest($"Invalid JSON in the request body: '{field}' holds text that is not valid UTF-8 or UTF-16 (a lone surrogate)");
        }
    }
}
