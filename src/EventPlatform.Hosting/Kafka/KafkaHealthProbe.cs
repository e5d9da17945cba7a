using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Options;

namespace EventPlatform.Hosting.Kafka;

/// <summary>
/// Measures whether Kafka answers: a metadata request through the service's own producer
/// connection. Results are kept for a second so health checks cannot load the cluster, and
/// concurrent checks share one request.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed class KafkaHealthProbe : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly IAdminClient _admin;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly Lock _gate = new();
    private Task<KafkaHealth>? _inFlight;
    private (KafkaHealth Result, DateTimeOffset At)? _last;

    public KafkaHealthProbe(IProducer<byte[]?, byte[]> producer, IOptions<KafkaOptions> options, TimeProvider time)
    {
        _admin = new DependentAdminClientBuilder(producer.Handle).Build();
        _time = time;
        _timeout = options.Value.AdminTimeout < TimeSpan.FromSeconds(2) ? options.Value.AdminTimeout : TimeSpan.FromSeconds(2);
    }

    public Task<KafkaHealth> CheckAsync()
    {
        lock (_gate)
        {
            if (_last is { } last && _time.GetUtcNow() - last.At < CacheFor)
            {
                return Task.FromResult(last.Result);
            }

            return _inFlight ??= Task.Run(Measure);
        }
    }

    private KafkaHealth Measure()
    {
        KafkaHealth result;
        try
        {
            var metadata = _admin.GetMetadata(_timeout);
            result = new KafkaHealth(metadata.Brokers.Count > 0, metadata.Brokers.Count, null);
        }
        catch (KafkaException ex)
        {
            result = new KafkaHealth(false, 0, ex.Error.Reason);
        }

        lock (_gate)
        {
            _last = (result, _time.GetUtcNow());
            _inFlight = null;
        }

        return result;
    }

    public void Dispose() => _admin.Dispose();
}

/// <summary>One measurement of the cluster.</summary>
public sealed record KafkaHealth(bool Connected, int Brokers, string? Error);
