using System.Text;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// The <c>broker</c> process stopped and continued (SIGSTOP/SIGCONT: Ctrl-Z then <c>fg</c> in a
/// terminal, a debugger, a frozen VM) keeps answering and keeps its records. Before the mock
/// cluster's thread was started with signals blocked, the poll() it waits in failed with EINTR
/// when a signal handler ran on that thread (.NET handles SIGCONT), that thread ended and closed
/// every broker's listener: the process stayed up answering nothing. 100 stops ended it 4 times in 5;
/// SIGCONT sent to each thread in turn ends it every time.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BrokerStopAndContinueTests
{
    private const string Topic = "events.iot.sensors";

    [Fact]
    public async Task The_broker_process_answers_and_keeps_its_records_after_being_stopped_and_continued()
    {
        var (broker, bootstrap) = await PlatformProcesses.StartBrokerAsync();
        await using var _ = broker;
        await ProduceAsync(bootstrap, "before");

        for (var i = 0; i < 20; i++)
        {
            broker.Suspend();
            await Task.Delay(20);
            broker.Resume();
            await Task.Delay(20);
        }

        broker.Suspend();
        broker.ContinueEveryThread();

        await ProduceAsync(bootstrap, "after");
        var values = (await KafkaReader.ReadAllAsync(bootstrap, Topic, TimeSpan.FromSeconds(30)))
            .Select(r => Encoding.UTF8.GetString(r.Message.Value))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(["after", "before"], values);
    }

    /// <summary>A new producer each time: its first connection proves the listeners are open.</summary>
    private static async Task ProduceAsync(string bootstrap, string value)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            MessageTimeoutMs = 15_000,
            SocketConnectionSetupTimeoutMs = 5_000,
        }).Build();
        var result = await producer.ProduceAsync(Topic, new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes(value) });
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
    }
}
