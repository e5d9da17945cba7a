namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// A refusal with Confluent Schema Registry's HTTP status, error code and message, so that
/// Confluent's clients (which read <c>error_code</c>) react to ours as to theirs.
/// </summary>
public sealed class SchemaRegistryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SchemaRegistryException(int status, int errorCode, string message)
        : base(message)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    /// <summary>Creates the exception.</summary>
    public SchemaRegistryException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public SchemaRegistryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SchemaRegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status.</summary>
    public int Status { get; } = 500;

    /// <summary>Confluent's error code (e.g. 40401).</summary>
    public int ErrorCode { get; } = 50001;
}

/// <summary>Confluent's error codes and messages (io.confluent.kafka.schemaregistry.rest.exceptions.Errors).</summary>
public static class RegistryErrors
{
    /// <summary>Subject not found.</summary>
    public static SchemaRegistryException SubjectNotFound(string subject) => new(404, 40401, $"Subject '{subject}' not found.");

    /// <summary>Version not found.</summary>
    public static SchemaRegistryException VersionNotFound(string subject, string version) => new(404, 40402, $"Version {version} not found.");

    /// <summary>Schema id not found.</summary>
    public static SchemaRegistryException SchemaNotFound(int id) => new(404, 40403, $"Schema {id} not found");

    /// <summary>Schema not found under the subject (lookup).</summary>
    public static SchemaRegistryException SchemaNotFound() => new(404, 40403, "Schema not found");

    /// <summary>The subject's versions are all soft-deleted.</summary>
    public static SchemaRegistryException SubjectSoftDeleted(string subject) =>
        new(404, 40404, $"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently");

    /// <summary>A hard delete of a subject that was not soft-deleted first.</summary>
    public static SchemaRegistryException SubjectNotSoftDeleted(string subject) =>
        new(404, 40405, $"Subject '{subject}' was not deleted first before being permanently deleted");

    /// <summary>The version is soft-deleted.</summary>
    public static SchemaRegistryException VersionSoftDeleted(string subject, int version) =>
        new(404, 40406, $"Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently");

    /// <summary>A hard delete of a version that was not soft-deleted first.</summary>
    public static SchemaRegistryException VersionNotSoftDeleted(string subject, int version) =>
        new(404, 40407, $"Subject '{subject}' Version {version} was not deleted first before being permanently deleted");

    /// <summary>No subject-level compatibility configured.</summary>
    public static SchemaRegistryException SubjectConfigNotFound(string subject) =>
        new(404, 40408, $"Subject '{subject}' does not have subject-level compatibility configured");

    /// <summary>No subject-level mode configured.</summary>
    public static SchemaRegistryException SubjectModeNotFound(string subject) =>
        new(404, 40409, $"Subject '{subject}' does not have subject-level mode configured");

    /// <summary>The new schema is incompatible (HTTP 409).</summary>
    public static SchemaRegistryException Incompatible(string subject, string details) =>
        new(409, 40901, $"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: {details}");

    /// <summary>The schema text is invalid for its type.</summary>
    public static SchemaRegistryException InvalidSchema(string message) => new(422, 42201, message);

    /// <summary>The version is not a positive integer or "latest".</summary>
    public static SchemaRegistryException InvalidVersion(string version) =>
        new(422, 42202, $"The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");

    /// <summary>Unknown compatibility level.</summary>
    public static SchemaRegistryException InvalidCompatibilityLevel(string? level) =>
        new(422, 42203, $"Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got '{level}')");

    /// <summary>Unknown mode.</summary>
    public static SchemaRegistryException InvalidMode(string? mode) =>
        new(422, 42204, $"Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT (got '{mode}')");

    /// <summary>The mode forbids the operation.</summary>
    public static SchemaRegistryException NotPermitted(string message) => new(422, 42205, message);

    /// <summary>The schema is referenced by another and cannot be deleted.</summary>
    public static SchemaRegistryException ReferenceExists(string message) => new(422, 42206, message);

    /// <summary>IMPORT with an id that holds another schema.</summary>
    public static SchemaRegistryException IdDoesNotMatch(int id) =>
        new(422, 42207, $"Schema id {id} is already used by a different schema");

    /// <summary>A subject name that is not allowed.</summary>
    public static SchemaRegistryException InvalidSubject(string subject) => new(422, 42208, $"Invalid subject {subject}");

    /// <summary>The request body is not what the route takes.</summary>
    public static SchemaRegistryException BadRequest(string message) => new(400, 400, message);

    /// <summary>A request body, or the record it makes, larger than the registry or its Kafka store takes.</summary>
    public static SchemaRegistryException TooLarge(string message) => new(413, 413, message);

    /// <summary>The Kafka store could not be written or read in time.</summary>
    public static SchemaRegistryException StoreError(string message) => new(500, 50001, message);

    /// <summary>The Kafka store did not answer in time.</summary>
    public static SchemaRegistryException Timeout(string message) => new(500, 50002, message);
}
