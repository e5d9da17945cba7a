using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Schemas.Tests.Avro;

/// <summary>Our codec against Apache Avro's generic reader and writer, on random data of rich schemas.</summary>
public class InteropProperties
{
    [Property(MaxTest = 300)]
    public void Apache_reads_our_bytes_and_writes_the_same_bytes(NonNegativeInt schemaIndex, int seed)
    {
        var text = RichSchemas.All[schemaIndex.Get % RichSchemas.All.Length];
        var schema = AvroSchema.Parse(text);
        var json = RandomDatum.Json(schema, seed);

        var ours = Codec.Encode(schema, json);
        var datum = ApacheAvro.Read(text, text, ours);

        Assert.Equal(Codec.Hex(ours), Codec.Hex(ApacheAvro.Write(text, datum)));
        Codec.AssertSameJson(json, ApacheAvro.ToJson(datum));
    }

    [Property(MaxTest = 300)]
    public void We_read_apache_bytes_back_to_the_same_json(NonNegativeInt schemaIndex, int seed)
    {
        var text = RichSchemas.All[schemaIndex.Get % RichSchemas.All.Length];
        var schema = AvroSchema.Parse(text);
        var json = RandomDatum.Json(schema, seed);
        var apacheBytes = ApacheAvro.Write(text, ApacheAvro.Read(text, text, Codec.Encode(schema, json)));

        Codec.AssertSameJson(json, Codec.Decode(schema, apacheBytes));
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(RandomSchemas)])]
    public void Random_schemas_agree_with_apache_both_ways(RandomType.Record record, int seed)
    {
        // Apache Avro for .NET refuses fixed types of size 0 (the specification allows them).
        var text = RandomSchemas.Json(record).Replace("\"size\": 0}", "\"size\": 1}", StringComparison.Ordinal);
        var schema = AvroSchema.Parse(text);
        var json = RandomDatum.Json(schema, seed);

        var ours = Codec.Encode(schema, json);
        var apacheBytes = ApacheAvro.Write(text, ApacheAvro.Read(text, text, ours));

        Assert.Equal(Codec.Hex(ours), Codec.Hex(apacheBytes));
        Codec.AssertSameJson(json, Codec.Decode(schema, apacheBytes));
    }

    [Property(MaxTest = 300)]
    public void Resolution_agrees_with_apache(NonNegativeInt pairIndex, int seed)
    {
        var (writerText, readerText) = RichSchemas.Resolvable[pairIndex.Get % RichSchemas.Resolvable.Length];
        var writer = AvroSchema.Parse(writerText);
        var bytes = Codec.Encode(writer, RandomDatum.Json(writer, seed));

        var ours = Codec.Decode(writer, AvroSchema.Parse(readerText), bytes);

        Codec.AssertSameJson(ApacheAvro.ToJson(ApacheAvro.Read(writerText, readerText, bytes)), ours);
    }

    [Property(MaxTest = 300)]
    public void Every_truncation_of_a_valid_datum_is_rejected(NonNegativeInt schemaIndex, int seed)
    {
        var schema = AvroSchema.Parse(RichSchemas.All[schemaIndex.Get % RichSchemas.All.Length]);
        var bytes = Codec.Encode(schema, RandomDatum.Json(schema, seed));

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<AvroDecodeException>(() => Codec.Decode(schema, bytes[..length]));
        }
    }

    [Property(MaxTest = 500)]
    public void Random_bytes_decode_or_fail_only_with_a_decode_exception(NonNegativeInt schemaIndex, byte[] bytes)
    {
        var schema = AvroSchema.Parse(RichSchemas.All[schemaIndex.Get % RichSchemas.All.Length]);
        try
        {
            Codec.Decode(schema, bytes);
        }
        catch (AvroDecodeException)
        {
        }
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(RandomSchemas)])]
    public void Random_bytes_for_random_schemas_fail_only_with_a_decode_exception(RandomType.Record record, byte[] bytes)
    {
        try
        {
            Codec.Decode(AvroSchema.Parse(RandomSchemas.Json(record)), bytes);
        }
        catch (AvroDecodeException)
        {
        }
    }

    [Property(MaxTest = 300)]
    public void Corrupting_one_byte_never_fails_otherwise(NonNegativeInt schemaIndex, int seed, NonNegativeInt position, byte value)
    {
        var schema = AvroSchema.Parse(RichSchemas.All[schemaIndex.Get % RichSchemas.All.Length]);
        var bytes = Codec.Encode(schema, RandomDatum.Json(schema, seed));
        if (bytes.Length > 0)
        {
            bytes[position.Get % bytes.Length] = value;
        }

        try
        {
            Codec.Decode(schema, bytes);
        }
        catch (AvroDecodeException)
        {
        }
    }
}
