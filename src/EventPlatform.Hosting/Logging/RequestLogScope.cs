using System.Collections;

namespace EventPlatform.Hosting.Logging;

/// <summary>
/// The logging scope of one HTTP request: its id (<c>request_id</c> in JSON logs). Only pushed
/// when the log format shows scopes (<see cref="LogFormat.Json"/>), so text logging pays nothing for it.
/// </summary>
internal sealed class RequestLogScope(string requestId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string Key = "RequestId";

    public string RequestId => requestId;

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new(Key, requestId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "RequestId:" + requestId;
}
