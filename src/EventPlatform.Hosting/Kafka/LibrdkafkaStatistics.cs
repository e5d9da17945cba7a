using System.Text.Json;

namespace EventPlatform.Hosting.Kafka;

/// <summary>
/// The fields of one librdkafka statistics report (its <c>stats_cb</c> JSON, see librdkafka's
/// STATISTICS.md) that the producer metrics are made from. Counters are totals since the client
/// was created; gauges are as of the report.
/// </summary>
/// <param name="ClientId">The client's <c>client.id</c>.</param>
/// <param name="AgeMicros">Time since the client was created (<c>age</c>, µs).</param>
/// <param name="MessagesSent">Records sent to brokers (<c>txmsgs</c>).</param>
/// <param name="MessageBytesSent">Record bytes sent to brokers, with batch framing (<c>txmsg_bytes</c>).</param>
/// <param name="BytesSent">All bytes sent to brokers, requests included (<c>tx_bytes</c>).</param>
/// <param name="QueuedMessages">Records waiting in the producer's queues (<c>msg_cnt</c>).</param>
/// <param name="QueuedBytes">Their size (<c>msg_size</c>).</param>
/// <param name="Brokers">Brokers of the cluster the client knows (bootstrap and internal entries left out).</param>
/// <param name="BrokersUp">Those with an open connection (state <c>UP</c>).</param>
/// <param name="RoundTrips">Requests whose round trip was measured since the previous report (the brokers' <c>rtt.cnt</c>).</param>
/// <param name="RoundTripAvgMicros">Their average round trip, weighted over brokers (µs).</param>
/// <param name="RoundTripMaxMicros">The longest of them (µs).</param>
public readonly record struct LibrdkafkaStatistics(
    string ClientId,
    long AgeMicros,
    long MessagesSent,
    long MessageBytesSent,
    long BytesSent,
    long QueuedMessages,
    long QueuedBytes,
    int Brokers,
    int BrokersUp,
    long RoundTrips,
    double RoundTripAvgMicros,
    long RoundTripMaxMicros)
{
    /// <summary>
    /// Reads a report. Walks it once with <see cref="Utf8JsonReader"/> and skips what is not
    /// needed (the per-topic and per-partition sections are most of it).
    /// </summary>
    /// <exception cref="JsonException">The text is not a statistics object.</exception>
    public static LibrdkafkaStatistics Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        Expect(ref reader, JsonTokenType.StartObject);
        string clientId = "";
        long age = 0, txmsgs = 0, txmsgBytes = 0, txBytes = 0, msgCnt = 0, msgSize = 0;
        var brokers = new BrokerTotals();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("client_id"u8))
            {
                clientId = ReadString(ref reader) ?? "";
            }
            else if (reader.ValueTextEquals("age"u8))
            {
                age = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("txmsgs"u8))
            {
                txmsgs = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("txmsg_bytes"u8))
            {
                txmsgBytes = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("tx_bytes"u8))
            {
                txBytes = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("msg_cnt"u8))
            {
                msgCnt = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("msg_size"u8))
            {
                msgSize = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("brokers"u8))
            {
                reader.Read();
                ReadBrokers(ref reader, ref brokers);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new LibrdkafkaStatistics(clientId, age, txmsgs, txmsgBytes, txBytes, msgCnt, msgSize, brokers.Count, brokers.Up,
            brokers.RttCount, brokers.RttCount > 0 ? brokers.RttWeightedSum / brokers.RttCount : 0, brokers.RttMax);
    }

    private static void ReadBrokers(ref Utf8JsonReader reader, ref BrokerTotals totals)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        // "brokers": { "<name>": { broker fields }, ... }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            reader.Read();
            ReadBroker(ref reader, ref totals);
        }
    }

    private static void ReadBroker(ref Utf8JsonReader reader, ref BrokerTotals totals)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        long nodeId = -1, rttCount = 0, rttAvg = 0, rttMax = 0;
        var up = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("nodeid"u8))
            {
                nodeId = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("state"u8))
            {
                up = ReadString(ref reader) == "UP";
            }
            else if (reader.ValueTextEquals("rtt"u8))
            {
                reader.Read();
                (rttCount, rttAvg, rttMax) = ReadWindow(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Bootstrap and internal entries have node id -1: they are connections, not brokers.
        if (nodeId < 0)
        {
            return;
        }

        totals.Count++;
        totals.Up += up ? 1 : 0;
        totals.RttCount += rttCount;
        totals.RttWeightedSum += (double)rttAvg * rttCount;
        totals.RttMax = Math.Max(totals.RttMax, rttMax);
    }

    /// <summary>A rolling-window object (<c>{"min":..,"max":..,"avg":..,"cnt":..,...}</c>).</summary>
    private static (long Count, long Avg, long Max) ReadWindow(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return default;
        }

        long count = 0, avg = 0, max = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("cnt"u8))
            {
                count = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("avg"u8))
            {
                avg = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("max"u8))
            {
                max = ReadInt64(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return (count, avg, max);
    }

    /// <summary>The next value as a whole number; anything else is skipped and reads as 0.</summary>
    private static long ReadInt64(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
        {
            return value;
        }

        reader.Skip();
        return 0;
    }

    /// <summary>The next value as a string; anything else is skipped and reads as null.</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw new JsonException($"Expected {type} in librdkafka statistics.");
        }
    }

    private struct BrokerTotals
    {
        public int Count;
        public int Up;
        public long RttCount;
        public double RttWeightedSum;
        public long RttMax;
    }
}
