using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Core.Topics;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Kafka.Topics;

/// <summary>
/// Makes topics exist on a Kafka cluster: creates them with the Admin API (partitions, replication
/// factor and topic configs) and waits until every partition has a leader. A topic that exists is
/// left as it is.
/// </summary>
/// <remarks>
/// <para>
/// Clusters differ in what they allow, so each refusal has its own way forward:
/// another instance creating the topic first (<c>TopicAlreadyExists</c>) is success; a cluster
/// that refuses the topic configs gets the topic without them (logged); a cluster without
/// CreateTopics (the embedded broker reached from another process) gets the topic by
/// auto-creation, with the broker's default partition count; a principal that may not create
/// topics waits for an operator to create it. Every wait is bounded by the ready timeout and
/// ends with a <see cref="TopicProvisioningException"/> that says what to do.
/// </para>
/// <para>
/// Existence is checked through a client that never asks for auto-creation, so that a topic the
/// platform can create is created with its configs rather than with the broker's defaults.
/// Thread-safe.
/// </para>
/// </remarks>
public sealed partial class AdminTopicProvisioner : ITopicProvisioner, IDisposable
{
    private static readonly TimeSpan FirstPollDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPollDelay = TimeSpan.FromSeconds(1);

    private readonly IAdminClient _inspector;
    private readonly Lazy<IAdminClient> _autoCreator;
    private readonly bool _ownsClients;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _readyTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="inspector">An admin client whose metadata requests do not auto-create topics (<c>allow.auto.create.topics=false</c>).</param>
    /// <param name="autoCreator">A client whose metadata requests ask the broker to auto-create the topics they name; used only where CreateTopics is missing.</param>
    /// <param name="timeout">How long one admin request may take.</param>
    /// <param name="readyTimeout">How long to wait for a topic to exist with a leader for every partition.</param>
    /// <param name="logger">Where creation and fallbacks are logged.</param>
    /// <param name="time">The clock of the waits.</param>
    public AdminTopicProvisioner(IAdminClient inspector, IAdminClient autoCreator, TimeSpan timeout, TimeSpan readyTimeout, ILogger<AdminTopicProvisioner> logger, TimeProvider? time = null)
        : this(inspector, new Lazy<IAdminClient>(autoCreator), ownsClients: false, timeout, readyTimeout, logger, time)
    {
    }

    private AdminTopicProvisioner(IAdminClient inspector, Lazy<IAdminClient> autoCreator, bool ownsClients, TimeSpan timeout, TimeSpan readyTimeout, ILogger logger, TimeProvider? time)
    {
        _inspector = inspector;
        _autoCreator = autoCreator;
        _ownsClients = ownsClients;
        _timeout = timeout;
        _readyTimeout = readyTimeout;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A provisioner with admin clients of its own, built from <paramref name="config"/>; disposing it disposes them.</summary>
    public static AdminTopicProvisioner Create(AdminClientConfig config, TimeSpan timeout, TimeSpan readyTimeout, ILogger<AdminTopicProvisioner> logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        var inspector = new AdminClientBuilder(WithAutoCreation(config, false)).SetLogHandler((_, _) => { }).Build();
        var autoCreator = new Lazy<IAdminClient>(() => new AdminClientBuilder(WithAutoCreation(config, true)).SetLogHandler((_, _) => { }).Build());
        return new AdminTopicProvisioner(inspector, autoCreator, ownsClients: true, timeout, readyTimeout, logger, null);
    }

    private static AdminClientConfig WithAutoCreation(AdminClientConfig config, bool allow)
    {
        // A copy: ClientConfig's copy constructor shares the dictionary with the original.
        var copy = new AdminClientConfig(config.ToDictionary(p => p.Key, p => p.Value));
        copy.Set("allow.auto.create.topics", allow ? "true" : "false");
        return copy;
    }

    /// <inheritdoc/>
    /// <exception cref="TopicProvisioningException">The topic does not exist and could not be created, or never got leaders.</exception>
    /// <exception cref="KafkaException">The cluster did not answer.</exception>
    public async Task<TopicProvisionOutcome> EnsureTopicAsync(TopicSpec topic, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var current = await DescribeAsync(topic.Name, cancellationToken).ConfigureAwait(false);
        if (current.Exists)
        {
            if (current.Partitions != topic.Partitions)
            {
                LogPartitionsDiffer(_logger, topic.Name, current.Partitions, topic.Partitions);
            }

            if (!current.Ready)
            {
                await WaitUntilReadyAsync(topic, autoCreate: false, "it exists but not every partition has a leader", cancellationToken).ConfigureAwait(false);
            }

            return TopicProvisionOutcome.AlreadyExisted;
        }

        var configs = topic.Configs;
        while (true)
        {
            var error = await CreateAsync(topic, configs, cancellationToken).ConfigureAwait(false);
            switch (Classify(error, configs.Count > 0))
            {
                case CreateResult.Created:
                    LogCreated(_logger, topic.Name, topic.Partitions, topic.ReplicationFactor, Describe(configs));
                    await WaitUntilReadyAsync(topic, autoCreate: false, "it was created but its partitions got no leaders", cancellationToken).ConfigureAwait(false);
                    return TopicProvisionOutcome.Created;

                case CreateResult.AlreadyExists:
                    // Another instance won the race: what it created is what we wanted.
                    await WaitUntilReadyAsync(topic, autoCreate: false, "another client created it but its partitions got no leaders", cancellationToken).ConfigureAwait(false);
                    return TopicProvisionOutcome.AlreadyExisted;

                case CreateResult.Pending:
                    await WaitUntilReadyAsync(topic, autoCreate: false, $"its creation did not finish ({error!.Code}) and it never appeared", cancellationToken).ConfigureAwait(false);
                    return TopicProvisionOutcome.Created;

                case CreateResult.ConfigsRefused:
                    LogConfigsRefused(_logger, topic.Name, Describe(configs), error!.Code, error.Reason);
                    configs = TopicConfigs.None;
                    continue;

                case CreateResult.Unsupported:
                    LogAutoCreate(_logger, topic.Name, error!.Reason);
                    await WaitUntilReadyAsync(topic, autoCreate: true, $"the cluster has no CreateTopics ({error.Reason}) and did not auto-create it", cancellationToken).ConfigureAwait(false);
                    return TopicProvisionOutcome.Created;

                case CreateResult.NotAuthorized:
                    LogWaitingForOperator(_logger, topic.Name, error!.Code, _readyTimeout);
                    await WaitUntilReadyAsync(topic, autoCreate: false, $"this client may not create topics ({error.Code}) and nobody else created it", cancellationToken).ConfigureAwait(false);
                    return TopicProvisionOutcome.AlreadyExisted;

                default:
                    throw new TopicProvisioningException(topic.Name, $"Topic '{topic.Name}' could not be created: {error!.Code} {error.Reason}.{Hint(error.Code)} {HowToCreate(topic)}");
            }
        }
    }

    private enum CreateResult
    {
        Created,
        AlreadyExists,
        Pending,
        ConfigsRefused,
        Unsupported,
        NotAuthorized,
        Failed,
    }

    private static CreateResult Classify(Error? error, bool hadConfigs) => error?.Code switch
    {
        null or ErrorCode.NoError => CreateResult.Created,
        ErrorCode.TopicAlreadyExists => CreateResult.AlreadyExists,
        // The controller may still be creating it (Kafka goes on after the request's timeout).
        ErrorCode.RequestTimedOut or ErrorCode.Local_TimedOut or ErrorCode.NotController => CreateResult.Pending,
        ErrorCode.InvalidConfig or ErrorCode.PolicyViolation when hadConfigs => CreateResult.ConfigsRefused,
        ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion or ErrorCode.InvalidRequest => CreateResult.Unsupported,
        ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed => CreateResult.NotAuthorized,
        _ => CreateResult.Failed,
    };

    /// <summary>Sends CreateTopics; returns the topic's error (null when created).</summary>
    private async Task<Error?> CreateAsync(TopicSpec topic, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken)
    {
        var specification = new TopicSpecification
        {
            Name = topic.Name,
            NumPartitions = topic.Partitions,
            ReplicationFactor = topic.ReplicationFactor,
            Configs = configs.Count > 0 ? configs.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal) : null,
        };
        try
        {
            await _inspector.CreateTopicsAsync([specification], new CreateTopicsOptions { RequestTimeout = _timeout, OperationTimeout = _timeout })
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (CreateTopicsException ex)
        {
            return ex.Results.FirstOrDefault(r => r.Topic == topic.Name)?.Error ?? ex.Error;
        }
        catch (KafkaException ex)
        {
            return ex.Error;
        }
    }

    /// <summary>Polls metadata (with backoff) until every partition of the topic has a leader, or the ready timeout.</summary>
    private async Task WaitUntilReadyAsync(TopicSpec topic, bool autoCreate, string whyNot, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _readyTimeout;
        var delay = FirstPollDelay;
        KafkaException? lastError = null;
        while (true)
        {
            try
            {
                if (autoCreate)
                {
                    await Task.Run(() => _autoCreator.Value.GetMetadata(topic.Name, _timeout), cancellationToken).ConfigureAwait(false);
                }

                if ((await DescribeAsync(topic.Name, cancellationToken).ConfigureAwait(false)).Ready)
                {
                    return;
                }
            }
            catch (KafkaException e)
            {
                lastError = e;
            }

            if (_time.GetUtcNow() >= deadline)
            {
                var last = lastError is null ? "" : $" Last error: {lastError.Error.Code} {lastError.Error.Reason}.";
                throw new TopicProvisioningException(topic.Name,
                    $"Topic '{topic.Name}' is not usable after {_readyTimeout.TotalSeconds:0.#} s: {whyNot}.{last} {HowToCreate(topic)}");
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPollDelay.Ticks));
        }
    }

    private readonly record struct TopicState(bool Exists, bool Ready, int Partitions);

    private async Task<TopicState> DescribeAsync(string topic, CancellationToken cancellationToken)
    {
        var metadata = await Task.Run(() => _inspector.GetMetadata(topic, _timeout), cancellationToken).ConfigureAwait(false);
        return StateOf(metadata.Topics.FirstOrDefault(t => t.Topic == topic));
    }

    private static TopicState StateOf(TopicMetadata? topic)
    {
        if (topic is null || topic.Error.Code != ErrorCode.NoError || topic.Partitions.Count == 0)
        {
            return default;
        }

        var ready = topic.Partitions.All(p => p.Leader >= 0 && p.Error.Code == ErrorCode.NoError);
        return new TopicState(true, ready, topic.Partitions.Count);
    }

    private static string Describe(IReadOnlyDictionary<string, string> configs) =>
        configs.Count == 0 ? "none" : string.Join(", ", configs.Select(c => $"{c.Key}={c.Value}"));

    private static string HowToCreate(TopicSpec topic) =>
        $"Create it ({topic.Partitions} partitions, replication factor {topic.ReplicationFactor}, configs: {Describe(topic.Configs)}) or allow this client to create topics.";

    private static string Hint(ErrorCode code) => code switch
    {
        ErrorCode.InvalidReplicationFactor => " The cluster has fewer brokers than the replication factor: set Kafka:ReplicationFactor.",
        ErrorCode.InvalidPartitions => " The partition count is not allowed by the cluster.",
        _ => "",
    };

    /// <summary>Disposes the admin clients this provisioner built itself.</summary>
    public void Dispose()
    {
        if (!_ownsClients)
        {
            return;
        }

        _inspector.Dispose();
        if (_autoCreator.IsValueCreated)
        {
            _autoCreator.Value.Dispose();
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions, replication factor {ReplicationFactor}, configs: {Configs}")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions, short replicationFactor, string configs);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "The cluster has no CreateTopics ({Reason}); topic {Topic} is created by auto-creation, with the broker's default partition count and configs")]
    private static partial void LogAutoCreate(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "The cluster refused the configs of topic {Topic} ({Configs}): {Code} {Reason}; creating it without them")]
    private static partial void LogConfigsRefused(ILogger logger, string topic, string configs, ErrorCode code, string reason);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "This client may not create topic {Topic} ({Code}); waiting up to {Timeout} for an operator or another instance to create it")]
    private static partial void LogWaitingForOperator(ILogger logger, string topic, ErrorCode code, TimeSpan timeout);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Topic {Topic} exists with {Actual} partitions (the plan says {Planned}); it is left as it is")]
    private static partial void LogPartitionsDiffer(ILogger logger, string topic, int actual, int planned);
}

/// <summary>A topic the platform needs does not exist and could not be made to exist; the message says why and what to do.</summary>
public sealed class TopicProvisioningException(string topic, string message) : Exception(message)
{
    /// <summary>The topic.</summary>
    public string Topic { get; } = topic;
}
