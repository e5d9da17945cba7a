using Confluent.Kafka;
using EventPlatform.Core.Resilience;
using EventPlatform.Kafka.Clusters;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Sink.Buffering;
using EventPlatform.Sink.Configuration;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Destinations.Snowflake;
using EventPlatform.Sink.Transformation;
using EventPlatform.Sink.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Sink.Connect;

/// <summary>What a change to a connector came to.</summary>
public enum ConnectOutcome
{
    Done,
    Created,
    NotFound,
    AlreadyExists,
}

/// <summary>
/// The sink as a Kafka Connect worker: the connectors it runs (each its own consumer group
/// <c>connect-{name}</c> with <c>tasks.max</c> <see cref="SinkTask"/>s), their configs kept in an
/// <see cref="IConnectorStore"/> (a directory under the data directory, or a compacted Kafka topic
/// shared by every worker: Kafka Connect's standalone and distributed modes), and the operations of
/// Connect's REST API (create, reconfigure, pause, resume, stop, restart, delete).
/// </summary>
/// <remarks>
/// <para>
/// At start it creates the warehouse's tables, learns the Kafka cluster's id (the warehouse's
/// offsets are tagged with it), and starts every stored connector in its target state. The
/// configured connector (the seed's JSON file, <c>Sink:Connector:*</c> keys, or the default) is
/// stored on the first start, and again whenever it is configured explicitly, so <c>up</c>'s default
/// connector is always listed and a user's connectors survive restarts.
/// </para>
/// <para>
/// Unlike Kafka Connect, a failed task is started again by the worker after a backoff (the seed's
/// formula, up to <see cref="SinkOptions.RetryMaxDelay"/>): it shows FAILED with its trace meanwhile.
/// Operations are serialised by one lock; status reads take none. Thread-safe.
/// </para>
/// <para>
/// With a shared store, a change made through another worker reaches this one as a
/// <see cref="IConnectorStore.Changed"/> notice, and the worker reconciles the connector's tasks with
/// what is stored (<see cref="ReconcileAsync"/>): created, reconfigured, paused, resumed, stopped or
/// deleted here too. Restarts are local: they act on this worker's tasks only.
/// </para>
/// </remarks>
public sealed class ConnectWorker(
    SinkConnectorConfig configured,
    IConnectorStore store,
    IOptions<SinkOptions> options,
    IOptions<KafkaOptions> kafka,
    SinkTransformer transformer,
    IWarehouseDestination destination,
    IProducer<byte[]?, byte[]> producer,
    SinkMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, ConnectorRuntime> _connectors = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggers.CreateLogger("EventPlatform.Sink");
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Threading.Channels.Channel<string> _changes = System.Threading.Channels.Channel.CreateUnbounded<string>(new() { SingleReader = true });
    private Task _supervision = Task.CompletedTask;
    private Task _reconciliation = Task.CompletedTask;
    private int _disposed;

    /// <summary>The id the warehouse's offsets are tagged with (known once started).</summary>
    public string? ClusterId { get; private set; }

    /// <summary>The connectors' names, sorted.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_connectors)
            {
                return [.. _connectors.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The embedded warehouse, which connectors without a Snowflake account write to (and <c>/query</c> reads).</summary>
    public IWarehouseDestination Destination => destination;

    /// <summary>The warehouse <paramref name="runtime"/> writes to.</summary>
    public IWarehouseDestination DestinationOf(ConnectorRuntime runtime) => runtime.OwnDestination ?? destination;

    /// <summary>The connector named <paramref name="name"/>, or null.</summary>
    public ConnectorRuntime? Find(string name)
    {
        lock (_connectors)
        {
            return _connectors.GetValueOrDefault(name);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await destination.EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var settings = options.Value;
        // The producer's metadata carries the cluster's id; reading it blocks, so off the caller's thread.
        var clusterId = await Task.Run(() => KafkaClusterId.TryGet(producer.Handle, settings.ClusterIdTimeout), cancellationToken).ConfigureAwait(false);
        if (clusterId is null)
        {
            clusterId = settings.FallbackClusterId ?? "unknown-cluster";
            SinkLog.NoClusterId(_logger, settings.ClusterIdTimeout, clusterId);
        }

        ClusterId = clusterId;
        var explicitlyConfigured = !string.IsNullOrWhiteSpace(settings.ConnectorConfigFile) || settings.Connector.Values.Any(v => !string.IsNullOrEmpty(v));
        var contents = await store.OpenAsync(cancellationToken).ConfigureAwait(false);
        var seed = !contents.EverWritten;
        var stored = contents.Connectors;
        foreach (var problem in contents.Problems)
        {
            SinkLog.StoredConnectorUnreadable(_logger, problem);
        }

        if (seed || explicitlyConfigured)
        {
            var previous = stored.FirstOrDefault(s => s.Name == configured.Name);
            stored.RemoveAll(s => s.Name == configured.Name);
            var entry = new StoredConnector(configured.Name, configured.RawValues, previous?.State ?? ConnectorTargetState.Running);
            await store.SaveAsync(entry, cancellationToken).ConfigureAwait(false);
            stored.Add(entry);
        }

        await store.MarkWrittenAsync(cancellationToken).ConfigureAwait(false);
        SinkLog.ConnectorStoreOpened(_logger, store.Description, stored.Count);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var entry in stored)
            {
                SinkConnectorConfig config;
                try
                {
                    config = SinkConnectorConfig.FromValues(entry.Name, entry.Config, Environment.GetEnvironmentVariable);
                }
                catch (SinkConfigException e)
                {
                    SinkLog.StoredConnectorUnreadable(_logger, $"{entry.Name}: {e.Message}");
                    var broken = new ConnectorRuntime(SinkConnectorConfig.Default(entry.Name), entry.State) { Failure = e.Message };
                    Add(broken);
                    continue;
                }

                var runtime = new ConnectorRuntime(config, entry.State);
                Add(runtime);
                StartTasks(runtime);
            }
        }
        finally
        {
            _gate.Release();
        }

        // Changes read from here on (another worker's, or our own read back) are reconciled in order.
        store.Changed = name => _changes.Writer.TryWrite(name);
        foreach (var name in stored.Select(s => s.Name))
        {
            // What changed between the open and the line above is caught by reconciling everything once.
            _changes.Writer.TryWrite(name);
        }

        _supervision = SuperviseAsync(_stopping.Token);
        _reconciliation = ReconcileChangesAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        store.Changed = null;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _supervision.ConfigureAwait(false);
        await _reconciliation.ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<ConnectorRuntime> all;
            lock (_connectors)
            {
                all = [.. _connectors.Values];
            }

            await Task.WhenAll(all.Select(StopTasksAsync)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes it twice (as itself and as the hosted service it also is).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>POST /connectors: creates and starts a connector; <see cref="ConnectOutcome.AlreadyExists"/> if the name is taken.</summary>
    public Task<ConnectOutcome> CreateAsync(SinkConnectorConfig config, CancellationToken cancellationToken) =>
        Locked(async () =>
        {
            if (Find(config.Name) is not null)
            {
                return ConnectOutcome.AlreadyExists;
            }

            await store.SaveAsync(new StoredConnector(config.Name, config.RawValues, ConnectorTargetState.Running), cancellationToken).ConfigureAwait(false);
            var runtime = new ConnectorRuntime(config, ConnectorTargetState.Running);
            Add(runtime);
            StartTasks(runtime);
            return ConnectOutcome.Created;
        }, cancellationToken);

    /// <summary>PUT /connectors/{name}/config: creates, or replaces the config and restarts the tasks (keeping the target state).</summary>
    public Task<ConnectOutcome> PutConfigAsync(SinkConnectorConfig config, CancellationToken cancellationToken) =>
        Locked(async () =>
        {
            if (Find(config.Name) is not { } runtime)
            {
                await store.SaveAsync(new StoredConnector(config.Name, config.RawValues, ConnectorTargetState.Running), cancellationToken).ConfigureAwait(false);
                var created = new ConnectorRuntime(config, ConnectorTargetState.Running);
                Add(created);
                StartTasks(created);
                return ConnectOutcome.Created;
            }

            await store.SaveAsync(new StoredConnector(config.Name, config.RawValues, runtime.Target), cancellationToken).ConfigureAwait(false);
            await ReconfigureAsync(runtime, config).ConfigureAwait(false);
            return ConnectOutcome.Done;
        }, cancellationToken);

    /// <summary>DELETE /connectors/{name}: stops its tasks (flushing their buffers) and forgets its config.</summary>
    public Task<ConnectOutcome> DeleteAsync(string name, CancellationToken cancellationToken) =>
        Locked(async () =>
        {
            if (Find(name) is not { } runtime)
            {
                return ConnectOutcome.NotFound;
            }

            await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            await RemoveAsync(runtime).ConfigureAwait(false);
            return ConnectOutcome.Done;
        }, cancellationToken);

    /// <summary>PUT .../pause, .../resume and .../stop: the new target state, kept with the config.</summary>
    public Task<ConnectOutcome> SetTargetAsync(string name, ConnectorTargetState target, CancellationToken cancellationToken) =>
        Locked(async () =>
        {
            if (Find(name) is not { } runtime)
            {
                return ConnectOutcome.NotFound;
            }

            await store.SaveAsync(new StoredConnector(name, runtime.Config.RawValues, target), cancellationToken).ConfigureAwait(false);
            await ApplyTargetAsync(runtime, target).ConfigureAwait(false);
            return ConnectOutcome.Done;
        }, cancellationToken);

    /// <summary>
    /// Brings the connector named <paramref name="name"/> in line with its stored entry: created,
    /// reconfigured, set to its target state or removed here, as another worker (or this one) stored it.
    /// A no-op when they already agree, as they do after this worker's own operations.
    /// </summary>
    public Task ReconcileAsync(string name, CancellationToken cancellationToken) =>
        Locked(async () =>
        {
            var desired = store.Get(name);
            var runtime = Find(name);
            if (desired is null)
            {
                if (runtime is not null)
                {
                    SinkLog.ConnectorReconciled(_logger, name, "deleted");
                    await RemoveAsync(runtime).ConfigureAwait(false);
                }

                return ConnectOutcome.Done;
            }

            SinkConnectorConfig config;
            try
            {
                config = SinkConnectorConfig.FromValues(desired.Name, desired.Config, Environment.GetEnvironmentVariable);
            }
            catch (SinkConfigException e)
            {
                SinkLog.StoredConnectorUnreadable(_logger, $"{desired.Name}: {e.Message}");
                if (runtime is not null)
                {
                    await RemoveAsync(runtime).ConfigureAwait(false);
                }

                Add(new ConnectorRuntime(SinkConnectorConfig.Default(desired.Name), desired.State) { Failure = e.Message });
                return ConnectOutcome.Done;
            }

            if (runtime is null)
            {
                SinkLog.ConnectorReconciled(_logger, name, "created");
                var created = new ConnectorRuntime(config, desired.State);
                Add(created);
                StartTasks(created);
                return ConnectOutcome.Created;
            }

            if (!SameConfig(runtime.Config.RawValues, desired.Config))
            {
                SinkLog.ConnectorReconciled(_logger, name, "reconfigured");
                runtime.Target = desired.State;
                await ReconfigureAsync(runtime, config).ConfigureAwait(false);
            }
            else if (runtime.Target != desired.State)
            {
                SinkLog.ConnectorReconciled(_logger, name, desired.State.ToString().ToLowerInvariant());
                await ApplyTargetAsync(runtime, desired.State).ConfigureAwait(false);
            }

            return ConnectOutcome.Done;
        }, cancellationToken);

    private async Task ApplyTargetAsync(ConnectorRuntime runtime, ConnectorTargetState target)
    {
        var previous = runtime.Target;
        runtime.Target = target;
        if (target == ConnectorTargetState.Stopped)
        {
            await StopTasksAsync(runtime).ConfigureAwait(false);
        }
        else if (previous == ConnectorTargetState.Stopped || runtime.Tasks.Count == 0)
        {
            StartTasks(runtime);
        }
        else
        {
            foreach (var task in runtime.Tasks)
            {
                if (target == ConnectorTargetState.Paused)
                {
                    task.Pause();
                }
                else
                {
                    task.Resume();
                }
            }
        }
    }

    private async Task ReconfigureAsync(ConnectorRuntime runtime, SinkConnectorConfig config)
    {
        await StopTasksAsync(runtime).ConfigureAwait(false);
        runtime.Config = config;
        runtime.Failure = null;
        StartTasks(runtime);
    }

    private async Task RemoveAsync(ConnectorRuntime runtime)
    {
        await StopTasksAsync(runtime).ConfigureAwait(false);
        lock (_connectors)
        {
            _connectors.Remove(runtime.Name);
        }
    }

    private static bool SameConfig(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(entry => b.TryGetValue(entry.Key, out var other) && other == entry.Value);

    /// <summary>Reconciles each connector named by the store's change notices, one at a time, until stopping.</summary>
    private async Task ReconcileChangesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var name in _changes.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await ReconcileAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One connector that cannot be brought in line must not stop the others' changes.
                    SinkLog.ReconcileFailed(_logger, e, name);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// POST .../restart: the connector (here: nothing to do, it has no thread of its own) and, with
    /// <paramref name="includeTasks"/>, its tasks, or only the failed ones with <paramref name="onlyFailed"/>.
    /// </summary>
    public Task<ConnectOutcome> RestartAsync(string name, bool includeTasks, bool onlyFailed, CancellationToken cancellationToken) =>
        Locked(async () =>
        {
            if (Find(name) is not { } runtime)
            {
                return ConnectOutcome.NotFound;
            }

            if (runtime.Target == ConnectorTargetState.Stopped)
            {
                return ConnectOutcome.Done;
            }

            if (!includeTasks)
            {
                // Connect restarts the connector instance only; ours has none apart from its tasks,
                // so only a connector that failed to start is tried again.
                if (runtime.Failure is not null || (!onlyFailed && runtime.Tasks.Count == 0))
                {
                    runtime.Failure = null;
                    StartTasks(runtime);
                }

                return ConnectOutcome.Done;
            }

            for (var i = 0; i < runtime.Tasks.Count; i++)
            {
                if (!onlyFailed || runtime.Tasks[i].Failure is not null)
                {
                    await RestartTaskAsync(runtime, i).ConfigureAwait(false);
                }
            }

            return ConnectOutcome.Done;
        }, cancellationToken);

    private async Task<ConnectOutcome> Locked(Func<Task<ConnectOutcome>> operation, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await operation().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Add(ConnectorRuntime runtime)
    {
        lock (_connectors)
        {
            _connectors[runtime.Name] = runtime;
        }
    }

    private void StartTasks(ConnectorRuntime runtime)
    {
        if (runtime.Target == ConnectorTargetState.Stopped || runtime.Failure is not null)
        {
            return;
        }

        var connector = runtime.Config;
        if (connector.SnowflakeUrl is not null && runtime.OwnDestination is null)
        {
            try
            {
                var snowflake = new SnowflakeDestination(SnowflakeSettings.From(connector), time);
                runtime.OwnDestination = snowflake;
                SinkLog.SnowflakeConfigured(_logger, connector.Name, snowflake.Fingerprint);
            }
            catch (Exception e) when (e is SinkConfigException or ArgumentException)
            {
                // The connector shows FAILED with the reason; PUT .../config or restart tries again.
                runtime.Failure = e.Message;
                return;
            }
        }

        SinkLog.ConnectorConfigured(_logger, connector.Name, string.Join(",", connector.Topics), connector.BufferCountRecords, connector.BufferSizeBytes,
            connector.BufferFlushTime, connector.TasksMax, destination is DuckDbDestination duck ? duck.Path : destination.Name);
        runtime.PendingRestarts.Clear();
        runtime.SetTasks([.. Enumerable.Range(0, connector.TasksMax).Select(i => NewTask(runtime, i))]);
    }

    private SinkTask NewTask(ConnectorRuntime runtime, int number)
    {
        var connector = runtime.Config;
        var settings = options.Value;
        var kafkaOptions = kafka.Value;
        var policy = new FlushPolicy(connector.BufferCountRecords, connector.BufferSizeBytes, connector.BufferFlushTime);
        var backoff = new ExponentialBackoff(settings.RetryBaseDelay, settings.RetryMaxDelay);
        var config = KafkaClientConfig.ForConsumer(kafkaOptions, $"{connector.Name}-task-{number}", kafkaOptions.BootstrapServers!, connector.GroupId);
        var task = new SinkTask(
            new SinkTaskSettings(number, config, connector.Topics, policy, backoff, settings.MaxAttempts, ClusterId!, settings.ThreadNiceness),
            transformer, DestinationOf(runtime), producer, metrics, time, _logger, _ => { });
        if (runtime.Target == ConnectorTargetState.Paused)
        {
            task.Pause();
        }

        task.Start(CancellationToken.None);
        SinkLog.TaskStarted(_logger, number, string.Join(",", connector.Topics), connector.GroupId, ClusterId!, DestinationOf(runtime).Name);
        return task;
    }

    private async Task RestartTaskAsync(ConnectorRuntime runtime, int index)
    {
        var old = runtime.Tasks[index];
        await old.DisposeAsync().ConfigureAwait(false);
        runtime.ReplaceTask(index, NewTask(runtime, index));
    }

    private static async Task StopTasksAsync(ConnectorRuntime runtime)
    {
        var tasks = runtime.Tasks;
        runtime.SetTasks([]);
        await Task.WhenAll(tasks.Select(t => t.StopAsync())).ConfigureAwait(false);
        foreach (var task in tasks)
        {
            await task.DisposeAsync().ConfigureAwait(false);
        }

        if (runtime.OwnDestination is { } own)
        {
            // Made again from the (possibly new) config at the next start.
            runtime.OwnDestination = null;
            await own.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts failed tasks again after the seed's backoff, growing with each failure in a row.</summary>
    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var backoff = new ExponentialBackoff(options.Value.RetryBaseDelay, options.Value.RetryMaxDelay);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var now = time.GetUtcNow();
                    List<ConnectorRuntime> all;
                    lock (_connectors)
                    {
                        all = [.. _connectors.Values];
                    }

                    foreach (var runtime in all)
                    {
                        for (var i = 0; i < runtime.Tasks.Count; i++)
                        {
                            if (runtime.Tasks[i].Failure is not { } failure)
                            {
                                continue;
                            }

                            runtime.PendingRestarts.TryGetValue(i, out var pending);
                            if (pending.RestartAt is null)
                            {
                                // Kept after a restart, so the next failure in a row waits longer.
                                var failures = pending.Failures + 1;
                                var delay = backoff.Delay(Math.Min(failures - 1, 30));
                                runtime.PendingRestarts[i] = (failures, now + delay);
                                SinkLog.TaskRestartScheduled(_logger, failure, runtime.Name, i, delay);
                            }
                            else if (now >= pending.RestartAt)
                            {
                                await RestartTaskAsync(runtime, i).ConfigureAwait(false);
                                runtime.PendingRestarts[i] = (pending.Failures, null);
                            }
                        }
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
