using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// The pipeline owns the bytes events are read from: a pooled body goes back to the pool only
/// after the last event read from it has been published, whatever the entry point does meanwhile.
/// The gateway's own container, with a producer that holds every record until told to let go.
/// </summary>
public sealed class PipelineOwnershipTests
{
    [Fact]
    public async Task A_batch_body_is_released_only_after_its_last_slot_even_when_the_caller_gives_up()
    {
        var producer = new HeldProducer();
        using var host = GatewayServices(producer.Proxy);
        var pipeline = host.Services.GetRequiredService<PublishPipeline>();
        var events = new JsonArray([.. Enumerable.Range(0, 3).Select(i => (JsonNode)TestEvents.Iot($"evt_own_{i}"))]);
        var body = PooledBytes.CopyOf(Encoding.UTF8.GetBytes(events.ToJsonString()));
        var answers = new GivesUpAfter(admitted: 2);

        // The caller goes away while the third event waits to be admitted (a WebSocket client that stopped reading).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            pipeline.PublishEachAsync(new PublishCaller("owner", "sub:owner", "iot.sensors"), body, ManyEventsInput.BatchBody, 10, answers, CancellationToken.None));

        await producer.InFlight(2).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(body.IsReleased);

        producer.LetGo();
        await answers.Answered(2).WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!body.IsReleased && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(body.IsReleased);
        Assert.Equal(["evt_own_0", "evt_own_1"], producer.EventIds.Order());
        Assert.All(answers.All, a => Assert.Null(a.Failure));
    }

    [Fact]
    public async Task A_body_refused_whole_is_released_at_once()
    {
        var producer = new HeldProducer();
        using var host = GatewayServices(producer.Proxy);
        var pipeline = host.Services.GetRequiredService<PublishPipeline>();
        var body = PooledBytes.CopyOf("{not json"u8);

        var start = await pipeline.PublishEachAsync(new PublishCaller("owner", "sub:owner", "iot.sensors"), body, ManyEventsInput.BatchBody, 10, new GivesUpAfter(10), CancellationToken.None);

        Assert.Equal(FailureKind.Invalid, start.Refused?.Kind);
        Assert.True(body.IsReleased);
    }

    /// <summary>The gateway's registrations in a host that is built, not started (nothing connects anywhere).</summary>
    private static IHost GatewayServices(IProducer<byte[]?, byte[]> producer)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["Gateway:Schemas:Enabled"] = "false",
            ["Gateway:Idempotency:Enabled"] = "false",
            ["Gateway:RateLimit:Enabled"] = "false",
            ["Jwt:SecretKey"] = GatewayServer.Jwt.SecretKey,
        });
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddGateway(builder.Configuration);
        builder.Services.AddSingleton(producer);
        return builder.Build();
    }

    /// <summary>Admits some events, then fails as a transport does when its client is gone.</summary>
    private sealed class GivesUpAfter(int admitted) : IEventAnswers
    {
        private readonly ConcurrentQueue<EventAnswer> _answers = new();
        private readonly TaskCompletionSource _enough = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _admitted;
        private int _expected = int.MaxValue;

        public IEnumerable<EventAnswer> All => _answers;

        public ValueTask<bool> AdmitAsync(CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _admitted) <= admitted ? ValueTask.FromResult(true) : ValueTask.FromException<bool>(new OperationCanceledException("the client is gone"));

        public void Answer(int? index, EventAnswer answer)
        {
            _answers.Enqueue(answer);
            if (_answers.Count >= Volatile.Read(ref _expected))
            {
                _enough.TrySetResult();
            }
        }

        public Task Answered(int count)
        {
            Volatile.Write(ref _expected, count);
            if (_answers.Count >= count)
            {
                _enough.TrySetResult();
            }

            return _enough.Task;
        }
    }

    /// <summary>A producer (a proxy of the interface: only ProduceAsync is used) that acknowledges nothing until <see cref="LetGo"/>.</summary>
    private sealed class HeldProducer
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _eventIds = new();
        private int _inFlight;
        private int _offset;

        public HeldProducer()
        {
            Proxy = DispatchProxy.Create<IProducer<byte[]?, byte[]>, ProducerProxy>();
            ((ProducerProxy)(object)Proxy).Owner = this;
        }

        public IProducer<byte[]?, byte[]> Proxy { get; }

        public IEnumerable<string> EventIds => _eventIds;

        public void LetGo() => _gate.TrySetResult();

        public async Task InFlight(int count)
        {
            while (Volatile.Read(ref _inFlight) < count)
            {
                await Task.Delay(10);
            }
        }

        public async Task<DeliveryResult<byte[]?, byte[]>> ProduceAsync(string topic, Message<byte[]?, byte[]> message)
        {
            Interlocked.Increment(ref _inFlight);
            await _gate.Task;

            // Read the value only now, as librdkafka would copy it only when it sends.
            _eventIds.Enqueue((string)JsonNode.Parse(message.Value)!["event_id"]!);
            return new DeliveryResult<byte[]?, byte[]>
            {
                Topic = topic,
                Partition = new Partition(0),
                Offset = new Offset(Interlocked.Increment(ref _offset)),
                Message = message,
                Status = PersistenceStatus.Persisted,
            };
        }
    }

    public class ProducerProxy : DispatchProxy
    {
        internal object? Owner { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "ProduceAsync" when args is [string topic, Message<byte[]?, byte[]> message, ..] => ((HeldProducer)Owner!).ProduceAsync(topic, message),
            "Dispose" => null,
            "Flush" => targetMethod!.ReturnType == typeof(int) ? 0 : null,
            "get_Name" => "held-producer",
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
