using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// <c>WS /api/v1/ingest/{topic}</c>: events sent as text frames (one event object, or a JSON array
/// of events, per message), each validated and published exactly like <c>POST /api/v1/events/{topic}</c>,
/// each answered with its own frame once Kafka has it (<c>"ack"</c>) or it was refused (<c>"error"</c>).
/// </summary>
/// <remarks>
/// <para>
/// Acknowledgements follow Kafka's, so they may come out of order across partitions: match them by
/// <c>event_id</c> (and <c>index</c> for arrays). An event without an answer when the connection
/// ends was not acknowledged; one the gateway was still publishing may or may not be in Kafka.
/// </para>
/// <para>
/// Backpressure: at most <see cref="StreamingOptions.IngestMaxUnacknowledged"/> events per
/// connection await their answer; at the bound the gateway stops reading the client's frames until
/// answers have been sent. Close codes: 1000 after the client's close; 1001 when the gateway shuts
/// down (after answering every event it took); 1003 for a binary frame; 1009 for a message over
/// <see cref="StreamingOptions.IngestMaxMessageBytes"/>.
/// </para>
/// </remarks>
internal static class IngestSocketEndpoint
{
    public static async Task HandleAsync(
        string topic,
        HttpContext context,
        EventIngestor ingestor,
        IOptions<StreamingOptions> options,
        IOptions<GatewayOptions> gateway,
        EventTimeBounds bounds,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<IngestSocketSession> logger)
    {
        if (await StreamingQuery.RefuseUpgradeAsync(context, ingestor, topic).ConfigureAwait(false))
        {
            return;
        }

        var settings = options.Value;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = settings.KeepAliveInterval }).ConfigureAwait(false);
        var session = new IngestSocketSession(socket, topic, ingestor, settings, gateway.Value.MaxBatchEvents, bounds, time, logger, context.RequestAborted);
        await session.RunAsync(lifetime.ApplicationStopping).ConfigureAwait(false);
    }
}

/// <summary>One WebSocket ingest connection: a loop reading messages, publishes in flight, and one sender.</summary>
/// <remarks>
/// Only the sender loop sends on the socket, only the receive loop receives (a WebSocket allows
/// one of each at a time). Every event takes a slot of <see cref="StreamingOptions.IngestMaxUnacknowledged"/>
/// when read and gives it back when its answer has been sent.
/// </remarks>
internal sealed partial class IngestSocketSession(
    WebSocket socket,
    string pathTopic,
    EventIngestor ingestor,
    StreamingOptions options,
    int maxEventsPerMessage,
    EventTimeBounds bounds,
    TimeProvider time,
    ILogger<IngestSocketSession> logger,
    CancellationToken connectionAborted)
{
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _slots = new(options.IngestMaxUnacknowledged, options.IngestMaxUnacknowledged);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private bool _stopping;

    // Events taken and not yet answered, plus one held by the receive side until it stops taking more.
    private int _pending = 1;

    public async Task RunAsync(CancellationToken stopping)
    {
        using var deadline = new CloseDeadline(socket, options.CloseTimeout, time);
        using var broken = new CancellationTokenSource();
        var sending = SendLoopAsync(broken);
        var receiving = ReceiveLoopAsync(broken.Token);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (stopping.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), stopped))
        {
            await Task.WhenAny(receiving, stopped.Task).ConfigureAwait(false);
        }

        var (status, description) = receiving.IsCompleted
            ? await receiving.ConfigureAwait(false)
            : (WebSocketCloseStatus.EndpointUnavailable, "server shutting down");

        // Take no more events; answer every one already taken, then close.
        lock (_gate)
        {
            _stopping = true;
        }

        Finish();
        await _drained.Task.ConfigureAwait(false);
        _outgoing.Writer.TryComplete();
        await sending.ConfigureAwait(false);
        await WebSocketClosing.CloseAsync(socket, status, description, receiving.IsCompleted ? null : receiving, deadline).ConfigureAwait(false);
        _slots.Dispose();
    }

    private async Task SendLoopAsync(CancellationTokenSource broken)
    {
        try
        {
            await foreach (var frame in _outgoing.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
                _slots.Release();
            }
        }
        catch (Exception ex) when (WebSocketClosing.IsConnectionGone(ex))
        {
            // The client is gone: stop the reader waiting for slots that will never be given back.
            await broken.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads messages until the client closes (or breaks the protocol); says how to close.</summary>
    private async Task<(WebSocketCloseStatus, string)> ReceiveLoopAsync(CancellationToken broken)
    {
        var max = options.IngestMaxMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, max + 1));
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    received = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).ConfigureAwait(false);
                    switch (received.MessageType)
                    {
                        case WebSocketMessageType.Close:
                            return (WebSocketCloseStatus.NormalClosure, string.Empty);
                        case WebSocketMessageType.Binary:
                            return (WebSocketCloseStatus.InvalidMessageType, "send events as JSON text frames");
                    }

                    length += received.Count;
                    if (length > max)
                    {
                        return (WebSocketCloseStatus.MessageTooBig, $"a message may be at most {max} bytes");
                    }
                }
                while (!received.EndOfMessage);

                if (Volatile.Read(ref _stopping))
                {
                    // Closing: the events of this message are not taken (and get no answer).
                    continue;
                }

                // A copy per message: events slice into it and are published after this buffer is reused.
                await TakeAsync(buffer.AsSpan(0, length).ToArray(), broken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (WebSocketClosing.IsConnectionGone(ex))
        {
            return (WebSocketCloseStatus.EndpointUnavailable, "connection lost");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Judges one message: one event, or an array judged event by event (as the batch route does).</summary>
    private async Task TakeAsync(byte[] message, CancellationToken broken)
    {
        var trimmed = message.AsSpan().TrimStart(" \t\r\n"u8);
        if (trimmed.Length > 0 && trimmed[0] == (byte)'[')
        {
            var batch = EventJsonReader.ReadBatch(message, maxEventsPerMessage, bounds);
            if (batch.SyntaxError is { } batchSyntax)
            {
                await RefuseAsync(null, InvalidJson(batchSyntax), null, broken).ConfigureAwait(false);
            }
            else if (batch.TooMany || batch.Results.Count == 0)
            {
                var text = batch.TooMany ? $"An array may hold at most {maxEventsPerMessage} events." : "The array is empty.";
                await RefuseAsync(null, new PublishFailure(StatusCodes.Status400BadRequest, ErrorCodes.InvalidBatch, text, new JsonObject { ["max_events"] = maxEventsPerMessage }), null, broken).ConfigureAwait(false);
            }
            else
            {
                for (var i = 0; i < batch.Results.Count; i++)
                {
                    await TakeAsync(batch.Results[i], i, broken).ConfigureAwait(false);
                }
            }

            return;
        }

        var single = EventJsonReader.ReadSingle(message, bounds);
        if (single.SyntaxError is { } syntax)
        {
            await RefuseAsync(null, InvalidJson(syntax), null, broken).ConfigureAwait(false);
            return;
        }

        await TakeAsync(single.Result, null, broken).ConfigureAwait(false);
    }

    private async Task TakeAsync(EventReadResult read, int? index, CancellationToken broken)
    {
        if (read.Event is not { } e)
        {
            await RefuseAsync(null, EventIngestor.Invalid(read.Error!), index, broken).ConfigureAwait(false);
            return;
        }

        if (await TryBeginAsync(broken).ConfigureAwait(false))
        {
            _ = PublishAsync(e, index);
        }
    }

    private async Task RefuseAsync(string? eventId, PublishFailure failure, int? index, CancellationToken broken)
    {
        if (await TryBeginAsync(broken).ConfigureAwait(false))
        {
            Answer(ErrorFrame(eventId, failure, index));
        }
    }

    /// <summary>Waits for a slot (backpressure), then counts the event as pending unless the session is closing.</summary>
    private async Task<bool> TryBeginAsync(CancellationToken broken)
    {
        await _slots.WaitAsync(broken).ConfigureAwait(false);
        lock (_gate)
        {
            if (!_stopping)
            {
                _pending++;
                return true;
            }
        }

        _slots.Release();
        return false;
    }

    private async Task PublishAsync(IngestEvent e, int? index)
    {
        byte[] frame;
        try
        {
            var outcome = await ingestor.IngestAsync(pathTopic, e, null, connectionAborted).ConfigureAwait(false);
            frame = outcome.Failure is { } failure
                ? ErrorFrame(e.EventId, failure, index)
                : JsonSerializer.SerializeToUtf8Bytes(new IngestAck(IngestAck.FrameType, e.EventId, outcome.Topic, outcome.Partition, outcome.Offset, index), StreamingJsonContext.Api.IngestAck);
        }
        catch (OperationCanceledException)
        {
            // The connection is gone (only retry waits are cancelled): nobody to answer.
            frame = ErrorFrame(e.EventId, new PublishFailure(StatusCodes.Status503ServiceUnavailable, ErrorCodes.KafkaUnavailable, "The connection closed before the event was published."), index);
        }
        catch (Exception ex)
        {
            LogPublishFailed(logger, ex, pathTopic);
            frame = ErrorFrame(e.EventId, new PublishFailure(StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "An internal error occurred; the event was not published."), index);
        }

        Answer(frame);
    }

    /// <summary>Queues the answer of a pending event (its slot comes back when it has been sent).</summary>
    private void Answer(byte[] frame)
    {
        if (!_outgoing.Writer.TryWrite(frame))
        {
            _slots.Release();
        }

        Finish();
    }

    private void Finish()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _drained.TrySetResult();
        }
    }

    private static byte[] ErrorFrame(string? eventId, PublishFailure failure, int? index) =>
        JsonSerializer.SerializeToUtf8Bytes(new IngestError(IngestError.FrameType, eventId, failure.ErrorCode, failure.Message, failure.Details, index), StreamingJsonContext.Api.IngestError);

    private static PublishFailure InvalidJson(JsonSyntaxError syntax)
    {
        var details = new JsonObject { ["reason"] = syntax.Message };
        if (syntax.LineNumber is { } line)
        {
            details["line"] = line + 1;
        }

        if (syntax.BytePositionInLine is { } position)
        {
            details["byte_position_in_line"] = position;
        }

        return new PublishFailure(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The message is not valid JSON.", details);
    }

    [LoggerMessage(EventId = 2331, Level = LogLevel.Error, Message = "Publishing an event received on the WebSocket ingest route of {Topic} failed unexpectedly")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string topic);
}
