using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Api;
using EventPlatform.Gateway.Protection;
using EventPlatform.Gateway.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
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
        PublishPipeline pipeline,
        IngestSocketLimiter sockets,
        IOptions<StreamingOptions> options,
        IOptions<GatewayOptions> gateway,
        IHostApplicationLifetime lifetime,
        TimeProvider time)
    {
        if (await StreamingQuery.RefuseUpgradeAsync(context, ingestor, topic).ConfigureAwait(false))
        {
            return;
        }

        // Refused before the upgrade, as an ErrorResponse: the client can still read an HTTP answer.
        var client = RateLimiting.ClientKey(context);
        using var lease = sockets.TryEnter(client);
        if (lease is null)
        {
            await HttpFailures.WriteAsync(context, TooManySockets(client, sockets.Limit)).ConfigureAwait(false);
            return;
        }

        var settings = options.Value;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = settings.KeepAliveInterval }).ConfigureAwait(false);
        var caller = new PublishCaller(context.User.FindFirst("sub")?.Value ?? "-", client, topic);
        var session = new IngestSocketSession(socket, caller, pipeline, settings, gateway.Value.MaxBatchEvents, time, context.RequestAborted);
        await session.RunAsync(lifetime.ApplicationStopping).ConfigureAwait(false);
    }

    private static PublishFailure TooManySockets(string client, int limit) =>
        new(FailureKind.RateLimited, ErrorCodes.RateLimited,
            $"Too many WebSocket ingest connections: this client may hold at most {limit} at once. Close one and retry.",
            new JsonObject { ["client"] = client, ["max_connections"] = limit, ["retry_after_seconds"] = 1 })
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        };
}

/// <summary>One WebSocket ingest connection: a loop reading messages, publishes in flight, and one sender.</summary>
/// <remarks>
/// Only the sender loop sends on the socket, only the receive loop receives (a WebSocket allows
/// one of each at a time). Every event takes a slot of <see cref="StreamingOptions.IngestMaxUnacknowledged"/>
/// when read and gives it back when its answer has been sent.
/// </remarks>
internal sealed class IngestSocketSession(
    WebSocket socket,
    PublishCaller caller,
    PublishPipeline pipeline,
    StreamingOptions options,
    int maxEventsPerMessage,
    TimeProvider time,
    CancellationToken connectionAborted) : IEventAnswers
{
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _slots = new(options.IngestMaxUnacknowledged, options.IngestMaxUnacknowledged);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private bool _stopping;

    // Cancelled when the client is gone: stops waiting for slots that will never be given back.
    private CancellationToken _broken;

    // Events taken and not yet answered, plus one held by the receive side until it stops taking more.
    private int _pending = 1;

    public async Task RunAsync(CancellationToken stopping)
    {
        using var deadline = new CloseDeadline(socket, options.CloseTimeout, time);
        using var broken = new CancellationTokenSource();
        _broken = broken.Token;
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

                // A pooled copy per message, handed to the pipeline: events slice into it and are
                // published after the receive buffer is reused; the pipeline releases it after the last answer.
                await TakeAsync(PooledBytes.CopyOf(buffer.AsSpan(0, length)), broken).ConfigureAwait(false);
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

    /// <summary>Hands one message (one event, or an array judged event by event, as the batch route does) to the pipeline.</summary>
    private async Task TakeAsync(PooledBytes message, CancellationToken broken)
    {
        // Publishing is cut short (retry waits only) when the connection is gone; admission when nobody reads the answers.
        var start = await pipeline.PublishEachAsync(caller, message, ManyEventsInput.SocketMessage, maxEventsPerMessage, this, connectionAborted).ConfigureAwait(false);
        if (start.Refused is { } refused && await TryBeginAsync(broken).ConfigureAwait(false))
        {
            Answer(ErrorFrame(null, refused, null));
        }
    }

    /// <inheritdoc/>
    ValueTask<bool> IEventAnswers.AdmitAsync(CancellationToken cancellationToken) => new(TryBeginAsync(_broken));

    /// <inheritdoc/>
    void IEventAnswers.Answer(int? index, EventAnswer answer)
    {
        var outcome = answer.Outcome;
        Answer(outcome.Failure is { } failure
            ? ErrorFrame(answer.EventId, failure, index)
            : JsonSerializer.SerializeToUtf8Bytes(new IngestAck(IngestAck.FrameType, answer.EventId!, outcome.Topic, outcome.Partition, outcome.Offset, index, answer.Replayed ? true : null), StreamingJsonContext.Api.IngestAck));
    }

    /// <summary>Waits for a slot (backpressure), then counts the event as pending unless the session is closing.</summary>
    private async Task<bool> TryBeginAsync(CancellationToken broken)
    {
        await _slots.WaitAsync(broken).ConfigureAwait(false);
        lock (_gate)
        {
            if (!_stopping)
            {
                // Atomic: answers decrement it outside the lock (Finish), from Kafka's acknowledgements. A
                // plain ++ here could overwrite a decrement made between its read and its write, and the
                // count would never reach 0: the session would wait for its answers forever and never
                // close (a CI run waited 20 minutes on it).
                Interlocked.Increment(ref _pending);
                return true;
            }
        }

        _slots.Release();
        return false;
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

    /// <summary>
    /// The WebSocket edge of a failure: an error frame, whatever its kind; a rate-limited event's
    /// details carry <c>retry_after_seconds</c>, as the HTTP 429's <c>Retry-After</c> does.
    /// </summary>
    private static byte[] ErrorFrame(string? eventId, PublishFailure failure, int? index) =>
        JsonSerializer.SerializeToUtf8Bytes(new IngestError(IngestError.FrameType, eventId, failure.ErrorCode, failure.Message, failure.Details, index), StreamingJsonContext.Api.IngestError);
}
