namespace EventPlatform.Streaming.Operators;

/// <summary>What happens to a record whose window has already fired (the seed's Property 10).</summary>
public enum LateDataKind : byte
{
    /// <summary>The record is discarded and counted in <c>DroppedLateCount</c>.</summary>
    Drop = 1,

    /// <summary>The record goes to the late output with its window and reason.</summary>
    SideOutput = 2,

    /// <summary>
    /// Within the allowed lateness the record updates its window, whose result is emitted again
    /// as an update; beyond it the record goes to the late output (never silently lost).
    /// </summary>
    Update = 3,
}

/// <summary>
/// The late-data policy of one window definition. Only <see cref="Update"/> keeps window state
/// after firing: with <see cref="Drop"/> and <see cref="SideOutput"/> a window is purged as it fires.
/// </summary>
public sealed record LateDataPolicy
{
    private LateDataPolicy(LateDataKind kind, long allowedLatenessMs)
    {
        Kind = kind;
        AllowedLatenessMilliseconds = allowedLatenessMs;
    }

    /// <summary>The policy's kind.</summary>
    public LateDataKind Kind { get; }

    /// <summary>How long after firing (in watermark time) a window still accepts updates; zero unless <see cref="LateDataKind.Update"/>.</summary>
    public long AllowedLatenessMilliseconds { get; }

    /// <summary>Late records are discarded and counted.</summary>
    public static LateDataPolicy Drop { get; } = new(LateDataKind.Drop, 0);

    /// <summary>Late records go to the late output.</summary>
    public static LateDataPolicy SideOutput { get; } = new(LateDataKind.SideOutput, 0);

    /// <summary>
    /// Late records update their window while the watermark is below its last timestamp plus
    /// <paramref name="allowedLateness"/>; later ones go to the late output.
    /// </summary>
    public static LateDataPolicy Update(TimeSpan allowedLateness) =>
        new(LateDataKind.Update, EventTime.ToMilliseconds(allowedLateness, nameof(allowedLateness), allowZero: true));
}

/// <summary>Why a record went to the late output.</summary>
public enum LateReason : byte
{
    /// <summary>The window had fired and the policy sends late records aside.</summary>
    WindowFired = 1,

    /// <summary>The policy updates windows, but this one was past its allowed lateness and purged.</summary>
    BeyondAllowedLateness = 2,
}
