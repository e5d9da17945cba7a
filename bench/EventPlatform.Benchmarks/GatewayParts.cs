using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventPlatform.Benchmarks;

/// <summary>The gateway's schema services as its container wires them, over the seed registry stand-in.</summary>
public sealed record GatewayParts(SchemaCache Schemas, SchemaGate Gate, WireEventDecoder Wire)
{
    public static GatewayParts Create()
    {
        var options = Options.Create(new SchemaOptions());
        var schemas = new SchemaCache(SeedRegistryStandIn.Create(), options, TimeProvider.System, NullLogger<SchemaCache>.Instance);
        return new GatewayParts(schemas, new SchemaGate(schemas, options), new WireEventDecoder(schemas));
    }
}
