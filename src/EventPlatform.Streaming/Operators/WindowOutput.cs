using EventPlatform.Streaming.Windows;

namespace EventPlatform.Streaming.Operators;

/// <summary>
/// A window's result. <see cref="IsUpdate"/> is false on the window's first firing and true on
/// every later one (late updates), so a sink can upsert on (<see cref="Key"/>, <see cref="Window"/>).
/// </summary>
public readonly record struct WindowResult<TKey, TOut>(TKey Key, WindowIdentity Window, TOut Result, bool IsUpdate);

/// <summary>A record that missed its window, with the window and why.</summary>
public readonly record struct LateRecord<TKey, TIn>(TKey Key, long Timestamp, TIn Input, WindowIdentity Window, LateReason Reason);

/// <summary>Receives what the operator emits, in the operator's deterministic order.</summary>
public interface IWindowOutput<TKey, TIn, TOut>
{
    /// <summary>A window fired or was updated.</summary>
    void Emit(in WindowResult<TKey, TOut> result);

    /// <summary>A late record was sent aside.</summary>
    void EmitLate(in LateRecord<TKey, TIn> record);
}

/// <summary>Collects emitted results and late records in lists, for a runtime to drain or a test to read.</summary>
public sealed class WindowOutputBuffer<TKey, TIn, TOut> : IWindowOutput<TKey, TIn, TOut>
{
    /// <summary>Results in emission order.</summary>
    public List<WindowResult<TKey, TOut>> Results { get; } = [];

    /// <summary>Late records in emission order.</summary>
    public List<LateRecord<TKey, TIn>> Late { get; } = [];

    /// <inheritdoc />
    public void Emit(in WindowResult<TKey, TOut> result) => Results.Add(result);

    /// <inheritdoc />
    public void EmitLate(in LateRecord<TKey, TIn> record) => Late.Add(record);
}
