using EventPlatform.Streaming.Windows;

namespace EventPlatform.Streaming.Operators;

/// <summary>One windowed aggregation's windows and late-data policy.</summary>
public sealed record WindowDefinition(WindowAssigner Assigner, LateDataPolicy LatePolicy);
