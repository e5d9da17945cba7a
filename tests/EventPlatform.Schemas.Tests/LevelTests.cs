using EventPlatform.Schemas.Compatibility;
using static EventPlatform.Schemas.Tests.AvroSchemas;

namespace EventPlatform.Schemas.Tests;

/// <summary>
/// Each compatibility level against three versions where every step is fine but the first and
/// the last are not: the non-transitive level passes, the transitive one fails on the oldest.
/// </summary>
public class LevelTests
{
    // v1 -> v2 adds session_id with a default, v3 drops the default: a v3 reader cannot read v1 data.
    private static readonly string[] BackwardChain =
    [
        Event,
        EventWith(""", {"name": "session_id", "type": "string", "default": ""}"""),
        EventWith(""", {"name": "session_id", "type": "string"}"""),
    ];

    // v1 has session_id without default, v2 gives it one, v3 drops it: a v1 reader cannot read v3 data.
    private static readonly string[] ForwardChain =
    [
        EventWith(""", {"name": "session_id", "type": "string"}"""),
        EventWith(""", {"name": "session_id", "type": "string", "default": ""}"""),
        Event,
    ];

    // v1 has a string "source" with a default, v2 removes it, v3 adds an int "source" with a default.
    private static readonly string[] FullChain =
    [
        EventWith(""", {"name": "source", "type": "string", "default": ""}"""),
        Event,
        EventWith(""", {"name": "source", "type": "int", "default": 0}"""),
    ];

    public static TheoryData<CompatibilityLevel, string, string> Levels => new()
    {
        { CompatibilityLevel.BACKWARD, nameof(BackwardChain), "" },
        { CompatibilityLevel.BACKWARD_TRANSITIVE, nameof(BackwardChain), "READER_FIELD_MISSING_DEFAULT_VALUE /fields/session_id" },
        { CompatibilityLevel.FORWARD, nameof(BackwardChain), "" },
        { CompatibilityLevel.FORWARD, nameof(ForwardChain), "" },
        { CompatibilityLevel.FORWARD_TRANSITIVE, nameof(ForwardChain), "READER_FIELD_MISSING_DEFAULT_VALUE /fields/session_id" },
        { CompatibilityLevel.BACKWARD, nameof(ForwardChain), "" },
        { CompatibilityLevel.FULL, nameof(FullChain), "" },
        { CompatibilityLevel.FULL_TRANSITIVE, nameof(FullChain), "TYPE_MISMATCH /fields/source/type;TYPE_MISMATCH /fields/source/type" },
        { CompatibilityLevel.BACKWARD_TRANSITIVE, nameof(FullChain), "TYPE_MISMATCH /fields/source/type" },
        { CompatibilityLevel.FORWARD_TRANSITIVE, nameof(FullChain), "TYPE_MISMATCH /fields/source/type" },
        { CompatibilityLevel.NONE, nameof(FullChain), "" },
        { CompatibilityLevel.NONE, nameof(BackwardChain), "" },
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public void Each_step_is_fine_and_the_level_decides_whether_the_oldest_counts(CompatibilityLevel level, string chain, string expected)
    {
        var versions = chain switch
        {
            nameof(BackwardChain) => BackwardChain,
            nameof(ForwardChain) => ForwardChain,
            _ => FullChain,
        };

        // Registering v2 after v1 is fine at every level.
        Assert.True(AvroCompatibility.Check(level, versions[1], [versions[0]]).IsCompatible);

        var result = AvroCompatibility.Check(level, versions[2], [versions[0], versions[1]]);
        Assert.Equal(
            expected.Split(';', StringSplitOptions.RemoveEmptyEntries),
            result.Incompatibilities.Select(i => $"{i.Kind} {i.Location}"));
        Assert.Equal(expected.Length == 0, result.IsCompatible);
        Assert.All(result.Incompatibilities, i => Assert.Contains("previous schema 1 of 2", i.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Full_transitive_says_which_direction_failed()
    {
        var result = AvroCompatibility.Check(CompatibilityLevel.FULL_TRANSITIVE, FullChain[2], [FullChain[0], FullChain[1]]);

        Assert.Collection(
            result.Incompatibilities,
            i => Assert.StartsWith("The new schema cannot read data written with the previous schema 1 of 2", i.Message, StringComparison.Ordinal),
            i => Assert.StartsWith("The previous schema 1 of 2 cannot read data written with the new schema", i.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Non_transitive_levels_check_only_the_latest_version()
    {
        // Against v1 alone v3 breaks BACKWARD; with v2 registered after v1 only v2 counts.
        Assert.False(AvroCompatibility.Check(CompatibilityLevel.BACKWARD, BackwardChain[2], [BackwardChain[0]]).IsCompatible);
        Assert.True(AvroCompatibility.Check(CompatibilityLevel.BACKWARD, BackwardChain[2], [BackwardChain[0], BackwardChain[1]]).IsCompatible);
        Assert.False(AvroCompatibility.Check(CompatibilityLevel.BACKWARD, BackwardChain[2], [BackwardChain[1], BackwardChain[0]]).IsCompatible);
    }

    [Theory]
    [InlineData(CompatibilityLevel.BACKWARD)]
    [InlineData(CompatibilityLevel.FULL_TRANSITIVE)]
    public void The_first_schema_of_a_subject_is_always_compatible(CompatibilityLevel level) =>
        Assert.True(AvroCompatibility.Check(level, Event, []).IsCompatible);
}
