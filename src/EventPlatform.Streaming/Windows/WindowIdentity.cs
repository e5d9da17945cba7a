namespace EventPlatform.Streaming.Windows;

/// <summary>
/// Names one window of one definition, so that results of different definitions over the same
/// stream never collide when used as an output key (a 5-minute tumbling window and a 5-minute
/// sliding window can share start and end). For sessions <see cref="Size"/> is the gap and
/// <see cref="Slide"/> is zero; for tumbling windows <see cref="Slide"/> equals <see cref="Size"/>.
/// </summary>
public readonly record struct WindowIdentity(WindowKind Kind, long Size, long Slide, TimeWindow Window)
{
    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        WindowKind.Session => $"session(gap={Size}ms)[{Window.Start},{Window.End})",
        WindowKind.Sliding => $"sliding({Size}ms/{Slide}ms)[{Window.Start},{Window.End})",
        _ => $"tumbling({Size}ms)[{Window.Start},{Window.End})",
    };
}
