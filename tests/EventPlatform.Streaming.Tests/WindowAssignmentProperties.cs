using EventPlatform.Streaming.Windows;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

public class WindowAssignmentProperties
{
    // Feature: kafka-event-streaming-platform, Property 8: Window assignment correctness
    // For any event with a timestamp, the Stream Processor should assign the event to all windows
    // that contain that timestamp according to the window definition (tumbling or sliding).
    [Property(MaxTest = 500)]
    public void Property_8_an_event_is_assigned_to_exactly_the_windows_that_contain_it(
        long rawTimestamp, byte edge, PositiveInt rawSlide, byte slidesPerWindow, int rawOffset, bool tumbling)
    {
        // The accepted range's edges, zero and -1 are where floor arithmetic goes wrong.
        var timestamp = (edge % 8) switch
        {
            0 => EventTime.MinTimestamp,
            1 => EventTime.MaxTimestamp,
            2 => -1,
            3 => 0,
            _ => rawTimestamp % (EventTime.MaxTimestamp + 1),
        };
        var slide = 1 + (rawSlide.Get % 100_000);
        var size = tumbling ? slide : slide * (1 + (slidesPerWindow % 10));
        var assigner = tumbling
            ? WindowAssigner.Tumbling(TimeSpan.FromMilliseconds(size), TimeSpan.FromMilliseconds(rawOffset % 200_000))
            : WindowAssigner.Sliding(TimeSpan.FromMilliseconds(size), TimeSpan.FromMilliseconds(slide), TimeSpan.FromMilliseconds(rawOffset % 200_000));

        var assigned = new List<TimeWindow>();
        assigner.AssignWindows(timestamp, assigned);

        var expected = Reference.WindowsContaining(timestamp, size, slide, assigner.Offset);
        Assert.Equal(expected.OrderBy(w => w.Start), assigned.OrderBy(w => w.Start));
        Assert.All(assigned, w => Assert.True(w.Contains(timestamp)));
        Assert.Equal(size / slide, assigned.Count);
    }

    [Property(MaxTest = 200)]
    public void Sliding_windows_whose_slide_does_not_divide_the_size_still_match_the_reference(long rawTimestamp, PositiveInt rawSize, PositiveInt rawSlide)
    {
        var timestamp = rawTimestamp % (EventTime.MaxTimestamp + 1);
        var size = 1 + (rawSize.Get % 5000);
        var slide = 1 + (rawSlide.Get % 5000);
        var assigner = WindowAssigner.Sliding(TimeSpan.FromMilliseconds(size), TimeSpan.FromMilliseconds(slide));

        var assigned = new List<TimeWindow>();
        assigner.AssignWindows(timestamp, assigned);

        Assert.Equal(Reference.WindowsContaining(timestamp, size, slide, 0).OrderBy(w => w.Start), assigned.OrderBy(w => w.Start));
    }

    [Fact]
    public void Negative_timestamps_fall_in_the_window_before_the_epoch()
    {
        var assigned = new List<TimeWindow>();
        WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)).AssignWindows(-1, assigned);
        Assert.Equal([new TimeWindow(-60_000, 0)], assigned);
    }

    [Fact]
    public void The_seed_sliding_definition_puts_an_event_in_five_windows()
    {
        var assigned = new List<TimeWindow>();
        WindowAssigner.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)).AssignWindows(90_000, assigned);
        Assert.Equal([60_000L, 0, -60_000, -120_000, -180_000], assigned.Select(w => w.Start));
    }

    [Fact]
    public void A_negative_offset_is_the_same_grid_as_its_positive_complement()
    {
        var minusOne = WindowAssigner.Tumbling(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(-1));
        Assert.Equal(9, minusOne.Offset);
    }

    [Theory]
    [InlineData(EventTime.MinTimestamp - 1)]
    [InlineData(EventTime.MaxTimestamp + 1)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    public void Timestamps_outside_the_accepted_range_are_refused(long timestamp)
    {
        var assigner = WindowAssigner.Tumbling(TimeSpan.FromSeconds(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => assigner.AssignWindows(timestamp, new List<TimeWindow>()));
    }

    [Fact]
    public void Fractional_and_non_positive_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => WindowAssigner.Tumbling(TimeSpan.FromTicks(15_000)));
        Assert.Throws<ArgumentOutOfRangeException>(() => WindowAssigner.Tumbling(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => WindowAssigner.Session(TimeSpan.FromMilliseconds(-5)));
    }

    [Fact]
    public void Identities_of_different_definitions_differ_even_for_the_same_interval()
    {
        var window = new TimeWindow(0, 300_000);
        var tumbling = WindowAssigner.Tumbling(TimeSpan.FromMinutes(5)).Identify(window);
        var sliding = WindowAssigner.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)).Identify(window);
        Assert.NotEqual(tumbling, sliding);
        Assert.Equal(WindowKind.Tumbling, tumbling.Kind);
    }
}
