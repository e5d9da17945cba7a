using System.Buffers;
using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// Validates JSON instances against one compiled schema. Thread-safe and reusable: compile once
/// (<see cref="ParsedJsonSchema.Validator"/>), validate every event. A valid instance costs one
/// pass that allocates nothing; an invalid one costs a second pass that collects every problem.
/// </summary>
public sealed class JsonSchemaValidator
{
    private readonly SchemaNode root;

    internal JsonSchemaValidator(SchemaNode root) => this.root = root;

    /// <summary>Validates an instance.</summary>
    /// <remarks>
    /// Each instance has a work budget (<see cref="JsonValidationResult.WorkBudgetExceeded"/>): a schema whose
    /// combinations fan out, or whose patterns are slow, cannot hold the calling thread for long.
    /// </remarks>
    public JsonValidationResult Validate(JsonElement instance)
    {
        var budget = new ValidationBudget(ValidationBudget.MaxSteps);
        try
        {
            if (InstanceChecker.Check(root, instance, null, null, ref budget))
            {
                return JsonValidationResult.Valid;
            }
        }
        catch (ValidationBudgetExceededException e)
        {
            return JsonValidationResult.OverBudget(e.Message);
        }

        var errors = new ValidationErrors();
        var report = new ValidationBudget(ValidationBudget.MaxReportSteps);
        try
        {
            InstanceChecker.Check(root, instance, errors, ValidationErrors.Root, ref report);
        }
        catch (ValidationBudgetExceededException)
        {
            // The instance is known to be invalid; only the list of reasons is cut short.
            errors.Add(ValidationErrors.Root, "does not match the schema (further problems not listed: the report exceeded its work budget)");
        }

        if (errors.IsEmpty)
        {
            // Both passes run the same checks; this only guards against a check reporting nothing.
            errors.Add(ValidationErrors.Root, "does not match the schema");
        }

        return errors.ToResult();
    }

    /// <summary>Parses UTF-8 JSON and validates it; text that is not JSON is an invalid root.</summary>
    public JsonValidationResult Validate(ReadOnlySpan<byte> utf8Json)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(utf8Json.Length, 1));
        try
        {
            utf8Json.CopyTo(buffer);
            using var document = JsonDocument.Parse(buffer.AsMemory(0, utf8Json.Length));
            return Validate(document.RootElement);
        }
        catch (JsonException e)
        {
            var errors = new ValidationErrors();
            errors.Add(ValidationErrors.Root, "not valid JSON: " + e.Message);
            return errors.ToResult();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
