using BenchmarkDotNet.Attributes;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Client;

namespace EventPlatform.Benchmarks;

/// <summary>
/// The gateway's schema cache on a hit, which is every event after the first: the latest
/// version of a subject (what the publish path asks twice per event) and a schema by id (what
/// Avro and Protobuf input ask once per event). The registry behind it is the in-process
/// <see cref="SeedRegistryStandIn"/>, asked only in the setup.
/// </summary>
[MemoryDiagnoser]
[OperationsPerSecond]
public class SchemaLookupBenchmarks
{
    private const string Subject = SeedRegistryStandIn.Topic + "-value";
    private SchemaCache _schemas = null!;
    private int _id;

    [GlobalSetup]
    public void Setup()
    {
        _schemas = GatewayParts.Create().Schemas;
        _id = _schemas.LatestAsync(Subject).AsTask().GetAwaiter().GetResult()!.Id;
        _ = _schemas.ByIdAsync(_id).AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public SubjectSchema? Latest_by_subject() => _schemas.LatestAsync(Subject).Result;

    [Benchmark]
    public SubjectSchema By_id() => _schemas.ByIdAsync(_id).Result;
}
