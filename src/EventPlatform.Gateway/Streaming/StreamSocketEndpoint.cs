using System.Net.WebSockets;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// <c>WS /api/v1/stream/{topic}</c>: every event written to the topic after the connection was
/// established, as one JSON text frame each, in order within each partition (Property 13).
/// </summary>
/// <remarks>
/// <para>
/// "After the connection was established" is exact: before the upgrade is accepted, the
/// connection joins the topic's hub and then takes each partition's high watermark. Every record
/// at or after those offsets is sent, none before; the offsets are the <c>start_offsets</c> of the
/// first frame (<c>{"type":"subscribed",...}</c>).
/// </para>
/// <para>Close codes: 1000 after the client's close; 1001 when the gateway shuts down; 1008 when
/// the client fell more than <see cref="StreamingOptions.SubscriberQueueCapacity"/> events behind
/// (slow consumer); 1011 when reading the topic failed for good.</para>
/// </remarks>
internal static partial class StreamSocketEndpoint
{
    /// <summary>Closes a subscriber that fell too far behind.</summary>
    public const WebSocketCloseStatus SlowConsumerStatus = WebSocketCloseStatus.PolicyViolation;

    public static async Task HandleAsync(
        string topic,
        HttpContext context,
        EventIngestor ingestor,
        StreamHubRegistry registry,
        KafkaTopicInspector inspector,
        IOptions<StreamingOptions> options,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<StreamHubRegistry> logger)
    {
        if (await StreamingQuery.RefuseUpgradeAsync(context, ingestor, topic).ConfigureAwait(false))
        {
            return;
        }

        if (!StreamingQuery.TryReadFilter(context, out var filter, out var problem))
        {
            await StreamingQuery.WriteInvalidAsync(context, problem!).ConfigureAwait(false);
            return;
        }

        var full = TopicRouter.FullTopicName(topic);
        using var subscription = registry.Subscribe(full, filter);
        PartitionWatermarks[]? start;
        try
        {
            // Joined first, offsets second: every record at or after them reaches the subscription.
            await subscription.ReadyAsync(context.RequestAborted).ConfigureAwait(false);
            start = await inspector.GetWatermarksAsync(full, context.RequestAborted).ConfigureAwait(false);
        }
        catch (TopicNotFoundException)
        {
            start = null;
        }
        catch (KafkaException ex)
        {
            var (message, details) = StreamingQuery.KafkaUnavailable(full, ex.Error.Reason);
            await ApiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.KafkaUnavailable, message, details).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (start is null)
        {
            var (message, details) = StreamingQuery.UnknownTopic(full);
            await ApiErrors.WriteAsync(context, StatusCodes.Status404NotFound, ErrorCodes.UnknownTopic, message, details).ConfigureAwait(false);
            return;
        }

        subscription.Hub.EnsurePartitions(start.Select(m => m.Partition));
        var settings = options.Value;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = settings.KeepAliveInterval }).ConfigureAwait(false);
        LogSubscribed(logger, full, context.TraceIdentifier);
        var subscribed = new StreamSubscribed(StreamSubscribed.FrameType, full, [.. start.Select(m => new PartitionOffset(m.Partition, m.High))], filter.IsEmpty ? null : filter);
        var (status, description) = await RunAsync(socket, subscription, subscribed, settings, lifetime.ApplicationStopping, time).ConfigureAwait(false);
        if (status == SlowConsumerStatus)
        {
            LogSlowConsumer(logger, full, context.TraceIdentifier, settings.SubscriberQueueCapacity);
        }
        else
        {
            LogClosed(logger, full, context.TraceIdentifier, (int)status, description);
        }
    }

    private static async Task<(WebSocketCloseStatus Status, string Description)> RunAsync(
        WebSocket socket, StreamSubscription subscription, StreamSubscribed subscribed, StreamingOptions options, CancellationToken stopping, TimeProvider time)
    {
        using var deadline = new CloseDeadline(socket, options.CloseTimeout, time);

        // A send to a client that stopped reading may never complete: once the subscription has
        // ended (slow consumer), the socket is aborted if closing has not succeeded in time.
        using var onEnded = subscription.Ended.Register(static d => ((CloseDeadline)d!).Arm(), deadline);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var receiving = WebSocketClosing.ReceiveUntilCloseAsync(socket, () => Cancel(stop));

        var (status, description) = await PumpAsync(socket, subscription, subscribed, stop.Token, stopping, options).ConfigureAwait(false);
        await WebSocketClosing.CloseAsync(socket, status, description, receiving, deadline).ConfigureAwait(false);
        return (status, description);
    }

    /// <summary>Sends the subscribed frame, then the subscription's frames, until it ends or the connection does.</summary>
    private static async Task<(WebSocketCloseStatus, string)> PumpAsync(
        WebSocket socket, StreamSubscription subscription, StreamSubscribed subscribed, CancellationToken stop, CancellationToken stopping, StreamingOptions options)
    {
        var start = subscribed.StartOffsets.ToDictionary(p => p.Partition, p => p.Offset);
        try
        {
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(subscribed, StreamingJsonContext.Api.StreamSubscribed), WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
            var frames = subscription.Frames;
            while (await frames.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                while (!stop.IsCancellationRequested && subscription.EndReason == StreamEnd.None && frames.TryRead(out var frame))
                {
                    // Queued between joining the hub and taking the start offsets: before this connection.
                    if (frame.Offset < start.GetValueOrDefault(frame.Partition))
                    {
                        continue;
                    }

                    // Not cancellable: cancelling a WebSocket send aborts the connection.
                    await socket.SendAsync(frame.Json, WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
                }

                if (subscription.EndReason != StreamEnd.None)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client closed, or the gateway is stopping.
        }
        catch (Exception ex) when (WebSocketClosing.IsConnectionGone(ex))
        {
            return (WebSocketCloseStatus.EndpointUnavailable, "connection lost");
        }

        return subscription.EndReason switch
        {
            StreamEnd.SlowConsumer => (SlowConsumerStatus, $"slow consumer: more than {options.SubscriberQueueCapacity} events queued"),
            StreamEnd.HubFailed => (WebSocketCloseStatus.InternalServerError, "reading the topic failed"),
            _ when stopping.IsCancellationRequested => (WebSocketCloseStatus.EndpointUnavailable, "server shutting down"),
            _ => (WebSocketCloseStatus.NormalClosure, string.Empty),
        };
    }

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection is over already.
        }
    }

    [LoggerMessage(EventId = 2321, Level = LogLevel.Debug, Message = "WebSocket subscribed to {Topic} (request {RequestId})")]
    private static partial void LogSubscribed(ILogger logger, string topic, string requestId);

    [LoggerMessage(EventId = 2323, Level = LogLevel.Warning, Message = "Closed a slow WebSocket subscriber of {Topic}: more than {Capacity} events queued (request {RequestId})")]
    private static partial void LogSlowConsumer(ILogger logger, string topic, string requestId, int capacity);

    [LoggerMessage(EventId = 2322, Level = LogLevel.Debug, Message = "WebSocket on {Topic} closed with {Status} {Description} (request {RequestId})")]
    private static partial void LogClosed(ILogger logger, string topic, string requestId, int status, string description);
}
