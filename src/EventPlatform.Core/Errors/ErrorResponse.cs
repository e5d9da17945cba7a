using System.Text.Json.Nodes;

namespace EventPlatform.Core.Errors;

/// <summary>
/// The seed's <c>ErrorResponse</c>: the body of every failed API call, on every service.
/// </summary>
/// <param name="ErrorCode">A stable code from <see cref="ErrorCodes"/>; clients branch on it.</param>
/// <param name="Message">What went wrong, for a person.</param>
/// <param name="Details">Structured specifics (missing fields, retry hints...), or null.</param>
/// <param name="Timestamp">When the error was produced (UTC).</param>
/// <param name="RequestId">The request's id, also sent as the <c>X-Request-ID</c> header.</param>
public sealed record ErrorResponse(
    string ErrorCode,
    string Message,
    JsonObject? Details,
    DateTimeOffset Timestamp,
    string RequestId);
