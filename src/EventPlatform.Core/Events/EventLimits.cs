namespace EventPlatform.Core.Events;

/// <summary>
/// Field limits taken from the warehouse table (<c>events_db.raw.events</c>): a value the
/// warehouse cannot hold is refused at the door rather than failing in the sink hours later.
/// </summary>
public static class EventLimits
{
    public const int MaxEventIdLength = 255;
    public const int MaxEventTypeLength = 100;
    public const int MaxUserIdLength = 255;
    public const int MaxDeviceIdLength = 255;
}
