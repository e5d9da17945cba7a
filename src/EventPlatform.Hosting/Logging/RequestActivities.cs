using System.Diagnostics;

namespace EventPlatform.Hosting.Logging;

/// <summary>
/// Makes ASP.NET Core start an <see cref="Activity"/> for every request, continuing the caller's
/// W3C <c>traceparent</c>, so log entries written while the request is handled carry its
/// <c>trace_id</c>, <c>span_id</c> and <c>parent_id</c>. Only registered with JSON logs: with
/// nobody listening, ASP.NET Core starts no activity and requests pay nothing for one.
/// </summary>
/// <remarks>
/// Activities are created for their ids only (<see cref="ActivitySamplingResult.PropagationData"/>):
/// no tags, no timing kept. Disposed with the host, which removes the listener.
/// </remarks>
public sealed class RequestActivities : IDisposable
{
    /// <summary>The activity source ASP.NET Core's hosting starts request activities from.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    private readonly ActivityListener _listener;

    public RequestActivities()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AspNetCoreSource,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();
}
