using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventPlatform.Sink.Destinations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EventPlatform.Sink.Connect;

/// <summary>
/// <c>POST /query</c> <c>{"sql": "SELECT ...", "max_rows": 100}</c>: one read-only SELECT against the
/// embedded warehouse through the running sink (DuckDB lets one process hold the file, so readers
/// come through the process that writes). Authenticated like the Connect API; answers
/// <c>{"columns": [...], "rows": [[...]], "truncated": false}</c>, errors in Connect's shape (400 for a
/// statement that is not a single SELECT or that DuckDB refuses, 408 when interrupted, 413 when it needs more
/// memory or its result more bytes than <see cref="QueryLimits.Default"/> allows).
/// </summary>
public static class QueryApi
{
    /// <summary>Rows returned when the request does not say.</summary>
    public const int DefaultMaxRows = 1000;

    /// <summary>The most rows one request may ask for.</summary>
    public const int MaxRowsLimit = 10_000;

    /// <summary>How long a query may run: writes wait for it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static WebApplication MapQueryApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGroup("/query").AddEndpointFilter(ConnectApi.AuthenticateAsync).MapPost("", QueryAsync);
        return app;
    }

    private static async Task<IResult> QueryAsync(HttpContext context, ConnectWorker worker, CancellationToken cancellationToken)
    {
        if (worker.Destination is not DuckDbDestination duck)
        {
            return ConnectApi.Error(StatusCodes.Status404NotFound, $"Queries run against the embedded DuckDB warehouse; this sink's is {worker.Destination.Name}.");
        }

        var (body, problem) = await ConnectApi.ReadBodyAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        string? sql;
        int maxRows;
        try
        {
            var request = JsonNode.Parse(body!, documentOptions: new JsonDocumentOptions { MaxDepth = 4 }) as JsonObject;
            sql = request?["sql"] is JsonValue text && text.TryGetValue<string>(out var s) ? s : null;
            maxRows = request?["max_rows"] is JsonValue limit && limit.TryGetValue<int>(out var m) ? m : DefaultMaxRows;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return ConnectApi.Error(StatusCodes.Status400BadRequest, "The request must be JSON: {\"sql\": \"SELECT ...\", \"max_rows\": 100}.");
        }

        if (string.IsNullOrWhiteSpace(sql) || maxRows < 1 || maxRows > MaxRowsLimit)
        {
            return ConnectApi.Error(StatusCodes.Status400BadRequest, $"Send {{\"sql\": \"SELECT ...\"}} and, if you like, \"max_rows\" from 1 to {MaxRowsLimit}.");
        }

        WarehouseQueryResult result;
        try
        {
            result = await duck.QueryReadOnlyAsync(sql, maxRows, Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (WarehouseQueryException e)
        {
            return ConnectApi.Error(e.Failure switch
            {
                WarehouseQueryFailure.Interrupted => StatusCodes.Status408RequestTimeout,
                // The request asked for more than a query may take: the request's fault, as 413 says of a request too large.
                WarehouseQueryFailure.TooLarge => StatusCodes.Status413PayloadTooLarge,
                _ => StatusCodes.Status400BadRequest,
            }, e.Message);
        }

        var rows = new JsonArray();
        foreach (var row in result.Rows)
        {
            rows.Add(new JsonArray([.. row.Select(ToJson)]));
        }

        return Results.Text(new JsonObject
        {
            ["columns"] = new JsonArray([.. result.Columns.Select(c => (JsonNode)c)]),
            ["rows"] = rows,
            ["truncated"] = result.Truncated,
        }.ToJsonString(), "application/json");
    }

    /// <summary>Numbers and booleans as JSON values, everything else (timestamps, HUGEINT, lists) as its invariant text.</summary>
    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        bool b => b,
        long or int or short or sbyte or byte or ushort or uint => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        double d when double.IsFinite(d) => d,
        float f when float.IsFinite(f) => f,
        decimal m => m,
        string s => s,
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };
}
