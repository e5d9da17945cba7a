namespace EventPlatform.Processor.Output;

/// <summary>
/// The Avro schema of <c>events.aggregated</c> values: the seed's <c>AggregatedEvent</c>
/// (<c>window_start</c>, <c>window_end</c>, <c>event_type</c>, <c>count</c>, <c>sum_value</c>,
/// <c>avg_value</c>, <c>min_value</c>, <c>max_value</c>, <c>distinct_users</c>) plus what tells
/// windows of different definitions apart, since several window sizes share a <c>window_start</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>window_kind</c>: <c>tumbling</c>, <c>sliding</c> or <c>session</c> (a string rather than an
/// Avro enum, so that a new kind is not an incompatible change for readers).</item>
/// <item><c>window_size_ms</c>, <c>window_slide_ms</c>: the definition; for sessions the size is the gap
/// and the slide is 0; for tumbling windows the slide equals the size.</item>
/// <item><c>window_key</c>: the key of keyed windows (a user's session), null for windows per event type.</item>
/// <item><c>is_update</c>: false for a window's first result, true when late data changed a result already emitted.</item>
/// <item><c>processed_time</c>: the event time at which the result was produced, which is the window's
/// close (<c>window_end</c>), for updates too; not the emission's wall clock, so that a replay after a
/// crash or another instance writes the same bytes (the field and its type are kept for the
/// warehouse's <c>aggregated_events.processed_time</c>).</item>
/// </list>
/// The figures are null when no event in the window had a reading (clicks, say). Registered under
/// <see cref="Subject"/> (Confluent's topic-name strategy), so Confluent's own deserializers read it.
/// </remarks>
public static class AggregatedEventSchema
{
    /// <summary>The topic the results go to.</summary>
    public const string Topic = "events.aggregated";

    /// <summary>The registry subject of the values (topic-name strategy).</summary>
    public const string Subject = Topic + "-value";

    /// <summary>The schema's full name.</summary>
    public const string FullName = "com.platform.events.AggregatedEvent";

    /// <summary>The schema text, in the field order <see cref="AggregatedEventEncoder"/> writes.</summary>
    public const string Avro = """
        {"type":"record","name":"AggregatedEvent","namespace":"com.platform.events","doc":"One window's aggregates for one event type (and key, for keyed windows).","fields":[
        {"name":"window_start","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"window_end","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"event_type","type":"string"},
        {"name":"count","type":"long"},
        {"name":"sum_value","type":["null","double"],"default":null},
        {"name":"avg_value","type":["null","double"],"default":null},
        {"name":"min_value","type":["null","double"],"default":null},
        {"name":"max_value","type":["null","double"],"default":null},
        {"name":"distinct_users","type":"long"},
        {"name":"window_kind","type":"string"},
        {"name":"window_size_ms","type":"long"},
        {"name":"window_slide_ms","type":"long"},
        {"name":"window_key","type":["null","string"],"default":null},
        {"name":"is_update","type":"boolean"},
        {"name":"processed_time","type":{"type":"long","logicalType":"timestamp-millis"}}
        ]}
        """;
}
