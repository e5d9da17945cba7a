namespace EventPlatform.Core.Events;

/// <summary>
/// The event types the seed design names. Other types are accepted only when dynamic topic
/// creation is on (see <see cref="Routing.TopicRouter"/>).
/// </summary>
public static class EventTypes
{
    public const string IotSensor = "iot.sensor";
    public const string Clickstream = "clickstream";
    public const string Transaction = "transaction";

    public static IReadOnlyList<string> Known { get; } = [IotSensor, Clickstream, Transaction];
}
