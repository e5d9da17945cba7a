using EventPlatform.SchemaRegistry.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.SchemaRegistry.Api;

/// <summary>
/// The request body limit (<see cref="RegistryOptions.MaxRequestBytes"/>): a declared length over it
/// is refused before a byte is read; a chunked body is cut off by the server when it passes it.
/// Either way the client gets 413 with Confluent's error body (through <see cref="RegistryErrorHandling"/>).
/// </summary>
internal static class RegistryBodyLimit
{
    public static IApplicationBuilder UseRegistryBodyLimit(this IApplicationBuilder app)
    {
        var limit = app.ApplicationServices.GetRequiredService<IOptions<RegistryOptions>>().Value.MaxRequestBytes;
        app.Use((context, next) =>
        {
            if (context.Request.ContentLength > limit)
            {
                throw RegistryErrors.TooLarge($"The request body is larger than {limit} bytes");
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            return next(context);
        });
        return app;
    }
}
