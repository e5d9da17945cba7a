using System.Buffers;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Processor.Output;

/// <summary>
/// Writes an <c>events.aggregated</c> value in Confluent's wire format: the magic byte, the id the
/// registry gave <see cref="AggregatedEventSchema.Avro"/>, then the Avro binary of the record.
/// </summary>
/// <remarks>
/// The fields are written by hand, in the schema's order, with the Schemas project's Avro primitives:
/// the record is flat and fixed, so a general encoder would only add a JSON step. The output depends
/// only on the window's result (no clock: <c>processed_time</c> is the window's close in event time),
/// so a replay after a crash, or another instance, writes the same bytes. Immutable and thread-safe.
/// </remarks>
public sealed class AggregatedEventEncoder(int schemaId)
{
    /// <summary>The registry id written in every header.</summary>
    public int SchemaId { get; } = schemaId;

    /// <summary>The value for one window's result, as a new array.</summary>
    public byte[] Encode(string eventType, WindowIdentity window, string? windowKey, AggregatedReadings readings, bool isUpdate)
    {
        var output = new ArrayBufferWriter<byte>(128);
        Write(output, eventType, window, windowKey, readings, isUpdate);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes the value for one window's result to <paramref name="output"/>.</summary>
    public void Write(IBufferWriter<byte> output, string eventType, WindowIdentity window, string? windowKey, AggregatedReadings readings, bool isUpdate)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        ArgumentNullException.ThrowIfNull(readings);
        ConfluentWireFormat.WriteHeader(output, SchemaId);
        AvroBinaryWriter.WriteLong(output, window.Window.Start);
        AvroBinaryWriter.WriteLong(output, window.Window.End);
        AvroBinaryWriter.WriteString(output, eventType.AsSpan());
        AvroBinaryWriter.WriteLong(output, readings.Count);
        WriteOptional(output, readings.Sum);
        WriteOptional(output, readings.Average);
        WriteOptional(output, readings.Min);
        WriteOptional(output, readings.Max);
        AvroBinaryWriter.WriteLong(output, readings.DistinctUsers);
        AvroBinaryWriter.WriteString(output, AggregatedEventKey.KindName(window.Kind).AsSpan());
        AvroBinaryWriter.WriteLong(output, window.Size);
        AvroBinaryWriter.WriteLong(output, window.Slide);
        if (windowKey is null)
        {
            AvroBinaryWriter.WriteUnionIndex(output, 0);
        }
        else
        {
            AvroBinaryWriter.WriteUnionIndex(output, 1);
            AvroBinaryWriter.WriteString(output, windowKey.AsSpan());
        }

        AvroBinaryWriter.WriteBoolean(output, isUpdate);
        AvroBinaryWriter.WriteLong(output, ProcessedTime(window));
    }

    /// <summary>
    /// The <c>processed_time</c> of a result: the event time at which its window closes (its end; the
    /// watermark passing <c>window_end − 1 ms</c> fires it), for updates too. A pure function of the
    /// window, unlike the emission clock, which a replay would change.
    /// </summary>
    public static long ProcessedTime(WindowIdentity window) => window.Window.End;

    private static void WriteOptional(IBufferWriter<byte> output, double? value)
    {
        if (value is { } v)
        {
            AvroBinaryWriter.WriteUnionIndex(output, 1);
            AvroBinaryWriter.WriteDouble(output, v);
        }
        else
        {
            AvroBinaryWriter.WriteUnionIndex(output, 0);
        }
    }
}
