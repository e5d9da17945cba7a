namespace EventPlatform.Streaming.Windows;

/// <summary>How a window definition cuts event time.</summary>
public enum WindowKind : byte
{
    /// <summary>Fixed, non-overlapping windows of one size.</summary>
    Tumbling = 1,

    /// <summary>Fixed-size windows that start every slide; an event belongs to several.</summary>
    Sliding = 2,

    /// <summary>Per-key windows that grow while events keep arriving within the gap.</summary>
    Session = 3,
}
