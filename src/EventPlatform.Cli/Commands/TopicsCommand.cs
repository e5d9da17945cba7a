using System.CommandLine;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Cli.Commands;

/// <summary><c>topics</c>: shows the topic plan and the cluster's topics; <c>--apply</c> creates what is missing.</summary>
internal static class TopicsCommand
{
    public static Command Create()
    {
        var apply = new Option<bool>("--apply") { Description = "Create the plan's missing topics on the cluster (existing topics are left as they are)." };
        var command = new Command("topics", "Show the topic plan and the topics on the cluster at KAFKA_BOOTSTRAP_SERVERS.") { apply };
        command.SetAction(async (parse, ct) =>
        {
            var configuration = PlatformSettings.Load();
            var options = configuration.GetSection(KafkaOptions.SectionName).Get<KafkaOptions>() ?? new KafkaOptions();
            var bootstrap = options.BootstrapServers ?? "127.0.0.1:9092";
            var plan = options.ReplicationFactor is { } rf ? TopicPlan.Seed.WithReplicationFactor(rf) : TopicPlan.Seed;
            var adminConfig = KafkaClientConfig.ForAdmin(options, "eventplatform-topics", bootstrap);
            adminConfig.Set("allow.auto.create.topics", "false"); // listing must not create what it lists
            using var admin = new AdminClientBuilder(adminConfig).Build();

            if (parse.GetValue(apply))
            {
                using var provisioner = AdminTopicProvisioner.Create(adminConfig, options.AdminTimeout, options.TopicReadyTimeout, NullLogger<AdminTopicProvisioner>.Instance);
                foreach (var (topic, outcome) in await provisioner.ApplyAsync(plan, ct).ConfigureAwait(false))
                {
                    Console.WriteLine($"{topic.Name,-24} {outcome}");
                }
            }

            var metadata = admin.GetMetadata(options.AdminTimeout);
            Console.WriteLine($"Cluster at {bootstrap}: {metadata.Brokers.Count} broker(s)");
            Console.WriteLine($"{"topic",-24} {"plan",-14} {"cluster",-14}");
            var names = plan.Topics.Select(t => t.Name).Union(metadata.Topics.Select(t => t.Topic)).Order(StringComparer.Ordinal);
            foreach (var name in names)
            {
                var planned = plan.Find(name);
                var actual = metadata.Topics.FirstOrDefault(t => t.Topic == name && t.Error.Code == ErrorCode.NoError);
                var planText = planned is null ? "-" : $"{planned.Partitions}p x{planned.ReplicationFactor}";
                var actualText = actual is null ? "missing" : $"{actual.Partitions.Count}p x{actual.Partitions.FirstOrDefault()?.Replicas.Length ?? 0}";
                Console.WriteLine($"{name,-24} {planText,-14} {actualText,-14}");
            }

            return 0;
        });
        return command;
    }
}
