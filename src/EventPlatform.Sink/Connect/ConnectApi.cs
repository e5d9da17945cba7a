using System.Buffers;
using System.Text.Json.Nodes;
using EventPlatform.Sink.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Sink.Connect;

/// <summary>
/// Kafka Connect's REST API over the sink's <see cref="ConnectWorker"/>, with Connect's JSON shapes
/// and status codes, so that the seed's <c>curl</c> habits work: <c>GET /</c>,
/// <c>GET /connector-plugins</c>, and under <c>/connectors</c> list, create, info, config, status,
/// tasks, pause, resume, stop, restart, delete and offsets.
/// </summary>
/// <remarks>
/// Every error is Connect's <c>{"error_code": N, "message": "..."}</c>: unknown routes and methods
/// too. <c>/connectors</c> routes need the platform's bearer token (<see cref="ConnectAuthenticator"/>);
/// <c>GET /</c> and <c>GET /connector-plugins</c> are open, as they tell nothing about connectors.
/// Bodies are read with a cap (<see cref="MaxBodyBytes"/>) and parsed with a depth cap; whatever a
/// client sends is answered with a 4xx, never a 5xx.
/// </remarks>
public static class ConnectApi
{
    /// <summary>The largest request body read (a connector config is a few kilobytes).</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>The Kafka Connect version whose API this one follows.</summary>
    public const string ConnectVersion = "3.9.0";

    /// <summary>Maps the API and Connect's error shape for bodiless 4xx answers (unknown routes, 405).</summary>
    public static WebApplication MapConnectApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
            {
                // A bug, not the client's fault: still Connect's shape, and logged with its stack.
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Sink.Connect");
                SinkLog.ConnectRequestFailed(logger, e, context.Request.Method, context.Request.Path.ToString());
                await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, e.GetType().Name + ": " + e.Message).ConfigureAwait(false);
            }
        });
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            if (response.HasStarted || response.ContentLength > 0 || response.ContentType is not null)
            {
                return;
            }

            var message = response.StatusCode switch
            {
                404 => "HTTP 404 Not Found",
                405 => "HTTP 405 Method Not Allowed",
                413 => "The request body is too large.",
                _ => "HTTP " + response.StatusCode,
            };
            await WriteErrorAsync(context.HttpContext, response.StatusCode, message).ConfigureAwait(false);
        });

        app.MapGet("/", (ConnectWorker worker) => Json(new JsonObject
        {
            ["version"] = ConnectVersion,
            ["commit"] = "eventplatform-sink",
            ["kafka_cluster_id"] = worker.ClusterId,
        }));
        app.MapGet("/connector-plugins", () => Json(new JsonArray(
            Plugin(SinkConnectorConfig.SnowflakeConnectorClass),
            Plugin(SinkConnectorConfig.DuckDbConnectorClass))));

        var connectors = app.MapGroup("/connectors").AddEndpointFilter(AuthenticateAsync);
        connectors.MapGet("", ListAsync);
        connectors.MapPost("", CreateAsync);
        connectors.MapGet("/{name}", (string name, HttpContext context, ConnectWorker worker) =>
            worker.Find(name) is { } runtime ? Json(Info(runtime)) : NotFound(name));
        connectors.MapGet("/{name}/config", (string name, ConnectWorker worker) =>
            worker.Find(name) is { } runtime ? Json(Config(runtime)) : NotFound(name));
        connectors.MapPut("/{name}/config", PutConfigAsync);
        connectors.MapGet("/{name}/status", (string name, HttpContext context, ConnectWorker worker) =>
            worker.Find(name) is { } runtime ? Json(Status(runtime, WorkerId(context))) : NotFound(name));
        connectors.MapGet("/{name}/tasks", (string name, ConnectWorker worker) =>
            worker.Find(name) is { } runtime ? Json(Tasks(runtime)) : NotFound(name));
        connectors.MapPut("/{name}/pause", (string name, ConnectWorker worker, CancellationToken ct) =>
            SetTargetAsync(worker, name, ConnectorTargetState.Paused, StatusCodes.Status202Accepted, ct));
        connectors.MapPut("/{name}/resume", (string name, ConnectWorker worker, CancellationToken ct) =>
            SetTargetAsync(worker, name, ConnectorTargetState.Running, StatusCodes.Status202Accepted, ct));
        connectors.MapPut("/{name}/stop", (string name, ConnectWorker worker, CancellationToken ct) =>
            SetTargetAsync(worker, name, ConnectorTargetState.Stopped, StatusCodes.Status204NoContent, ct));
        connectors.MapPost("/{name}/restart", RestartAsync);
        connectors.MapDelete("/{name}", async (string name, ConnectWorker worker, CancellationToken ct) =>
            await worker.DeleteAsync(name, ct).ConfigureAwait(false) == ConnectOutcome.NotFound ? NotFound(name) : Results.NoContent());
        connectors.MapGet("/{name}/offsets", OffsetsAsync);
        return app;
    }

    /// <summary>Writes Connect's error shape.</summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(new JsonObject { ["error_code"] = status, ["message"] = message }.ToJsonString(), context.RequestAborted);
    }

    /// <summary>Connect's error shape as a result.</summary>
    public static IResult Error(int status, string message) =>
        Results.Text(new JsonObject { ["error_code"] = status, ["message"] = message }.ToJsonString(), "application/json", statusCode: status);

    /// <summary>The platform-token check of every protected route (an endpoint filter).</summary>
    internal static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var authenticator = context.RequestServices.GetRequiredService<ConnectAuthenticator>();
        var (subject, failure) = await authenticator.AuthenticateAsync(context).ConfigureAwait(false);
        if (subject is null)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Sink.Connect");
            SinkLog.ConnectRequestRefused(logger, context.Request.Method, context.Request.Path.ToString(), failure!);
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"eventplatform-connect\"";
            return Error(StatusCodes.Status401Unauthorized, failure!);
        }

        return await next(invocation).ConfigureAwait(false);
    }

    private static IResult ListAsync(HttpContext context, ConnectWorker worker)
    {
        var expand = context.Request.Query["expand"];
        if (expand.Count == 0)
        {
            return Json(new JsonArray([.. worker.Names.Select(n => (JsonNode)n)]));
        }

        var result = new JsonObject();
        foreach (var name in worker.Names)
        {
            if (worker.Find(name) is not { } runtime)
            {
                continue;
            }

            var entry = new JsonObject();
            if (expand.Contains("status"))
            {
                entry["status"] = Status(runtime, WorkerId(context));
            }

            if (expand.Contains("info"))
            {
                entry["info"] = Info(runtime);
            }

            result[name] = entry;
        }

        return Json(result);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ConnectWorker worker, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadBodyAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        SinkConnectorConfig config;
        try
        {
            config = ParseCreate(body!);
        }
        catch (SinkConfigException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }

        var outcome = await worker.CreateAsync(config, cancellationToken).ConfigureAwait(false);
        if (outcome == ConnectOutcome.AlreadyExists)
        {
            return Error(StatusCodes.Status409Conflict, $"Connector {config.Name} already exists");
        }

        var runtime = worker.Find(config.Name)!;
        return Results.Text(Info(runtime).ToJsonString(), "application/json", statusCode: StatusCodes.Status201Created);
    }

    /// <summary>POST /connectors takes <c>{"name": ..., "config": {...}}</c>, Connect's shape; the name may also be inside the config.</summary>
    private static SinkConnectorConfig ParseCreate(byte[] body)
    {
        try
        {
            var root = JsonNode.Parse(body, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 8 });
            if (root is not JsonObject obj || obj["config"] is not JsonObject)
            {
                throw new SinkConfigException("The request must be a JSON object with 'config' (and 'name'): {\"name\": ..., \"config\": {...}}.");
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON, invalid UTF-8 or UTF-16 inside strings, duplicate keys.
            throw new SinkConfigException("The request body is not valid JSON: " + e.Message);
        }

        var (name, values) = SinkConnectorConfig.ReadDefinition(body);
        return SinkConnectorConfig.FromValues(name, values, Environment.GetEnvironmentVariable);
    }

    private static async Task<IResult> PutConfigAsync(string name, HttpContext context, ConnectWorker worker, CancellationToken cancellationToken)
    {
        if (SinkConnectorConfig.NameProblem(name) is { } nameProblem)
        {
            return Error(StatusCodes.Status400BadRequest, nameProblem);
        }

        var (body, problem) = await ReadBodyAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        SinkConnectorConfig config;
        try
        {
            var (_, values) = SinkConnectorConfig.ReadDefinition(body!, name);
            if (values.TryGetValue("name", out var inner) && inner != name)
            {
                return Error(StatusCodes.Status400BadRequest, $"Connector name configuration ({inner}) doesn't match connector name in the URL ({name})");
            }

            config = SinkConnectorConfig.FromValues(name, values, Environment.GetEnvironmentVariable);
        }
        catch (SinkConfigException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }

        var outcome = await worker.PutConfigAsync(config, cancellationToken).ConfigureAwait(false);
        var runtime = worker.Find(name)!;
        return Results.Text(Info(runtime).ToJsonString(), "application/json",
            statusCode: outcome == ConnectOutcome.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> SetTargetAsync(ConnectWorker worker, string name, ConnectorTargetState target, int status, CancellationToken cancellationToken) =>
        await worker.SetTargetAsync(name, target, cancellationToken).ConfigureAwait(false) == ConnectOutcome.NotFound
            ? NotFound(name)
            : Results.StatusCode(status);

    private static async Task<IResult> RestartAsync(string name, HttpContext context, ConnectWorker worker, CancellationToken cancellationToken)
    {
        if (!TryFlag(context, "includeTasks", out var includeTasks) || !TryFlag(context, "onlyFailed", out var onlyFailed))
        {
            return Error(StatusCodes.Status400BadRequest, "'includeTasks' and 'onlyFailed' must be true or false.");
        }

        if (await worker.RestartAsync(name, includeTasks, onlyFailed, cancellationToken).ConfigureAwait(false) == ConnectOutcome.NotFound)
        {
            return NotFound(name);
        }

        // Connect: 204 for the plain restart, 202 with the status when either flag is given.
        return context.Request.Query.ContainsKey("includeTasks") || context.Request.Query.ContainsKey("onlyFailed")
            ? Results.Text(Status(worker.Find(name)!, WorkerId(context)).ToJsonString(), "application/json", statusCode: StatusCodes.Status202Accepted)
            : Results.NoContent();
    }

    private static async Task<IResult> OffsetsAsync(string name, ConnectWorker worker, CancellationToken cancellationToken)
    {
        if (worker.Find(name) is not { } runtime)
        {
            return NotFound(name);
        }

        Destinations.WarehouseOffsets stored;
        try
        {
            stored = await worker.DestinationOf(runtime).ReadOffsetsAsync(worker.ClusterId ?? "", cancellationToken).ConfigureAwait(false);
        }
        catch (Destinations.DestinationException e)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "The warehouse does not answer: " + e.Message);
        }

        // Offsets live in the warehouse per topic and partition: a connector's are those of its topics.
        var offsets = new JsonArray();
        foreach (var offset in stored.Offsets.Where(o => runtime.Config.Topics.Contains(o.Topic)).OrderBy(o => o.Topic, StringComparer.Ordinal).ThenBy(o => o.Partition))
        {
            offsets.Add(new JsonObject
            {
                ["partition"] = new JsonObject { ["kafka_topic"] = offset.Topic, ["kafka_partition"] = offset.Partition },
                ["offset"] = new JsonObject { ["kafka_offset"] = offset.NextOffset },
            });
        }

        return Json(new JsonObject { ["offsets"] = offsets });
    }

    private static bool TryFlag(HttpContext context, string name, out bool value)
    {
        value = false;
        var given = context.Request.Query[name];
        return given.Count == 0 || (given.Count == 1 && bool.TryParse(given[0], out value));
    }

    /// <summary>The request body, read with the cap, or the 4xx to answer instead.</summary>
    internal static async Task<(byte[]? Body, IResult? Problem)> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes} bytes."));
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(8192);
                var read = await context.Request.Body.ReadAsync(memory, context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > MaxBodyBytes)
                {
                    return (null, Error(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes} bytes."));
                }
            }
        }
        catch (Exception e) when (e is IOException or Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            return (null, Error(StatusCodes.Status400BadRequest, "The request body could not be read: " + e.Message));
        }

        return (buffer.WrittenSpan.ToArray(), null);
    }

    private static JsonObject Plugin(string className) => new() { ["class"] = className, ["type"] = "sink", ["version"] = ConnectVersion };

    private static JsonObject Config(ConnectorRuntime runtime)
    {
        var config = new JsonObject();
        foreach (var (key, value) in runtime.Config.RawValues.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            config[key] = value;
        }

        return config;
    }

    private static JsonObject Info(ConnectorRuntime runtime) => new()
    {
        ["name"] = runtime.Name,
        ["config"] = Config(runtime),
        ["tasks"] = new JsonArray([.. runtime.Tasks.Select((_, i) => (JsonNode)TaskId(runtime, i))]),
        ["type"] = "sink",
    };

    private static JsonObject TaskId(ConnectorRuntime runtime, int task) => new() { ["connector"] = runtime.Name, ["task"] = task };

    private static JsonArray Tasks(ConnectorRuntime runtime) =>
        new([.. runtime.Tasks.Select((_, i) => (JsonNode)new JsonObject { ["id"] = TaskId(runtime, i), ["config"] = Config(runtime) })]);

    private static JsonObject Status(ConnectorRuntime runtime, string workerId)
    {
        var connector = new JsonObject { ["state"] = runtime.State, ["worker_id"] = workerId };
        if (runtime.Failure is { } failure)
        {
            connector["trace"] = failure;
        }

        var tasks = new JsonArray();
        foreach (var task in runtime.TaskStatuses())
        {
            var entry = new JsonObject { ["id"] = task.Id, ["state"] = task.State, ["worker_id"] = workerId };
            if (task.Trace is { } trace)
            {
                entry["trace"] = trace;
            }

            tasks.Add(entry);
        }

        return new JsonObject { ["name"] = runtime.Name, ["connector"] = connector, ["tasks"] = tasks, ["type"] = "sink" };
    }

    /// <summary>Connect's worker id: the host and port the worker serves its REST API on.</summary>
    private static string WorkerId(HttpContext context)
    {
        var addresses = context.RequestServices.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses?.FirstOrDefault() is { } address && Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            return $"{uri.Host}:{uri.Port}";
        }

        return $"{context.Connection.LocalIpAddress}:{context.Connection.LocalPort}";
    }

    private static IResult NotFound(string name) => Error(StatusCodes.Status404NotFound, $"Connector {name} not found");

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");
}
