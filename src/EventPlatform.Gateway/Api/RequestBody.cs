using System.Buffers;
using EventPlatform.Gateway.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace EventPlatform.Gateway.Api;

/// <summary>
/// Reading a request body whole into a pooled buffer, with a size limit, and telling its format.
/// The body comes back as <see cref="PooledBytes"/>: hand it to the publish pipeline, which keeps it
/// until every event read from it has been published.
/// </summary>
internal static class RequestBody
{
    /// <summary>Reads the body, or returns null when it is larger than <paramref name="limit"/>.</summary>
    public static async ValueTask<PooledBytes?> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var size = request.ContentLength is > 0 and var n ? (int)n : 4096;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(size, limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new PooledBytes(buffer, length);
    }

    /// <summary>The body's format by its content type, or null when the gateway does not take it.</summary>
    public static InputFormat? FormatOf(HttpRequest request)
    {
        if (IsJson(request))
        {
            return InputFormat.Json;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
        {
            return null;
        }

        var type = mediaType.MediaType;
        return type.Equals(InputFormats.AvroMediaType, StringComparison.OrdinalIgnoreCase) || type.Equals(InputFormats.AvroShortMediaType, StringComparison.OrdinalIgnoreCase)
            ? InputFormat.Avro
            : type.Equals(InputFormats.ProtobufMediaType, StringComparison.OrdinalIgnoreCase) || type.Equals(InputFormats.ProtobufKafkaMediaType, StringComparison.OrdinalIgnoreCase)
                ? InputFormat.Protobuf
                : null;
    }

    /// <summary>Whether the request says its body is JSON (application/json or a +json type).</summary>
    public static bool IsJson(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
        {
            return false;
        }

        var type = mediaType.MediaType;
        if (!type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            && !(type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        // JSON is UTF-8 (RFC 8259); any other declared charset is refused rather than misread.
        var charset = mediaType.Charset;
        return !charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }
}
