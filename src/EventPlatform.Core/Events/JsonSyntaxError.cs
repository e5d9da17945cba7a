namespace EventPlatform.Core.Events;

/// <summary>Where a request body stopped being JSON (zero-based line and byte, when known).</summary>
public sealed record JsonSyntaxError(string Message, long? LineNumber, long? BytePositionInLine);
