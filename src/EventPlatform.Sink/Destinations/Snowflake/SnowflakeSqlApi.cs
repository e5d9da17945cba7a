using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventPlatform.Sink.Destinations.Snowflake;

/// <summary>A bind variable of the SQL API (<c>{"type": "TEXT", "value": "..."}</c>).</summary>
public readonly record struct SnowflakeBinding(string Type, string? Value)
{
    public static SnowflakeBinding Text(string? value) => new("TEXT", value);
}

/// <summary>What a statement returned: its column names and rows (values as the text the API sends).</summary>
public sealed record SnowflakeResult(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows);

/// <summary>
/// Snowflake's SQL API v2 over HTTP: <c>POST /api/v2/statements</c> with the key-pair JWT
/// (<c>Authorization: Bearer</c>, <c>X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT</c>), a
/// <c>requestId</c> so a resent request runs once (<c>retry=true</c>), an answer of 200 or 202
/// followed by polling <c>GET /api/v2/statements/{handle}</c>, results read partition by partition.
/// </summary>
/// <remarks>
/// Failures become <see cref="DestinationException"/>s of the right kind: 401/403 and compilation
/// errors about objects or privileges (SQLSTATE 42xxx, 02000) are <see cref="DestinationErrorKind.Setup"/>;
/// data errors (SQLSTATE 22xxx, 23xxx) are <see cref="DestinationErrorKind.RowsRejected"/>; 429 (with
/// its Retry-After), 408, 5xx, timeouts and connection failures are <see cref="DestinationErrorKind.Unavailable"/>.
/// An expired token (code 390318) is signed again and the request resent once. Thread-safe.
/// </remarks>
public sealed class SnowflakeSqlApi(HttpClient http, SnowflakeSettings settings, SnowflakeKeyPairToken token, TimeProvider time, TimeSpan statementTimeout)
{
    /// <summary>Snowflake's code for an expired JWT.</summary>
    public const string TokenExpiredCode = "390318";

    /// <summary>Runs <paramref name="statement"/> (<paramref name="statementCount"/> statements separated by ';', without bindings when more than one: the API allows none there).</summary>
    public async Task<SnowflakeResult> ExecuteAsync(string statement, IReadOnlyList<SnowflakeBinding>? bindings, int statementCount, CancellationToken cancellationToken)
    {
        var requestId = Guid.NewGuid();
        var body = RequestBody(statement, bindings, statementCount);
        var answer = await SendAsync(HttpMethod.Post, $"api/v2/statements?requestId={requestId}", body, requestId, cancellationToken).ConfigureAwait(false);
        var deadline = time.GetUtcNow() + statementTimeout;
        var delay = TimeSpan.FromMilliseconds(50);
        while (answer.Status == HttpStatusCode.Accepted)
        {
            var handle = (string?)answer.Body?["statementHandle"] ?? throw new DestinationException(DestinationErrorKind.Unavailable, "Snowflake answered 202 without a statementHandle.");
            if (time.GetUtcNow() > deadline)
            {
                // It may still commit: the rows are MERGEs and the offsets go with them, so a retry is safe.
                throw new DestinationException(DestinationErrorKind.Unavailable, $"Snowflake statement {handle} did not finish within {statementTimeout}.");
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            answer = await SendAsync(HttpMethod.Get, "api/v2/statements/" + Uri.EscapeDataString(handle), null, null, cancellationToken).ConfigureAwait(false);
        }

        return await ReadResultAsync(answer, cancellationToken).ConfigureAwait(false);
    }

    private JsonObject RequestBody(string statement, IReadOnlyList<SnowflakeBinding>? bindings, int statementCount)
    {
        var body = new JsonObject
        {
            ["statement"] = statement,
            ["timeout"] = (int)Math.Max(1, statementTimeout.TotalSeconds),
            ["database"] = settings.Database,
            ["schema"] = settings.Schema,
            ["parameters"] = new JsonObject { ["MULTI_STATEMENT_COUNT"] = statementCount.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        if (settings.Warehouse is { } warehouse)
        {
            body["warehouse"] = warehouse;
        }

        if (settings.Role is { } role)
        {
            body["role"] = role;
        }

        if (bindings is { Count: > 0 })
        {
            var values = new JsonObject();
            for (var i = 0; i < bindings.Count; i++)
            {
                values[(i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject { ["type"] = bindings[i].Type, ["value"] = bindings[i].Value };
            }

            body["bindings"] = values;
        }

        return body;
    }

    private async Task<Answer> SendAsync(HttpMethod method, string path, JsonObject? body, Guid? requestId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var target = path;
            if (attempt > 1 && requestId is not null)
            {
                // The same requestId with retry=true: Snowflake runs the statement once however often it is sent.
                target += "&retry=true";
            }

            using var request = new HttpRequestMessage(method, target);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Current());
            request.Headers.Add("X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("eventplatform-sink", "1.0"));
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new DestinationException(DestinationErrorKind.Unavailable, "Snowflake could not be reached: " + e.Message, e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DestinationException(DestinationErrorKind.Unavailable, "Snowflake did not answer in time.", e);
            }

            using (response)
            {
                JsonNode? json = null;
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    json = text.Length == 0 ? null : JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    // A proxy's HTML error page: judged by the status alone.
                }

                var answer = new Answer(response.StatusCode, json, response.Headers.RetryAfter);
                var code = (string?)(json as JsonObject)?["code"];
                if (answer.Status == HttpStatusCode.Unauthorized && code == TokenExpiredCode && attempt == 1)
                {
                    token.Invalidate();
                    continue;
                }

                if (answer.Status is HttpStatusCode.OK or HttpStatusCode.Accepted)
                {
                    return answer;
                }

                throw Failure(answer, code);
            }
        }
    }

    private async Task<SnowflakeResult> ReadResultAsync(Answer answer, CancellationToken cancellationToken)
    {
        var body = answer.Body as JsonObject;
        var meta = body?["resultSetMetaData"] as JsonObject;
        var columns = (meta?["rowType"] as JsonArray)?.Select(c => (string?)c?["name"] ?? "").ToList() ?? [];
        var rows = new List<string?[]>();
        AddRows(rows, body?["data"] as JsonArray);
        var partitions = (meta?["partitionInfo"] as JsonArray)?.Count ?? 1;
        var handle = (string?)body?["statementHandle"];
        for (var partition = 1; partition < partitions && handle is not null; partition++)
        {
            var more = await SendAsync(HttpMethod.Get, $"api/v2/statements/{Uri.EscapeDataString(handle)}?partition={partition}", null, null, cancellationToken).ConfigureAwait(false);
            AddRows(rows, (more.Body as JsonObject)?["data"] as JsonArray);
        }

        return new SnowflakeResult(columns, rows);
    }

    private static void AddRows(List<string?[]> rows, JsonArray? data)
    {
        foreach (var row in data ?? [])
        {
            rows.Add([.. (row as JsonArray ?? []).Select(v => v is null ? null : v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString())]);
        }
    }

    private static DestinationException Failure(Answer answer, string? code)
    {
        var body = answer.Body as JsonObject;
        var sqlState = (string?)body?["sqlState"] ?? "";
        var message = $"Snowflake answered {(int)answer.Status}" + (code is null ? "" : $" (code {code}" + (sqlState.Length > 0 ? $", SQLSTATE {sqlState})" : ")")) + ": " + ((string?)body?["message"] ?? "no message");
        var kind = answer.Status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => DestinationErrorKind.Setup,
            HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => DestinationErrorKind.Unavailable,
            >= HttpStatusCode.InternalServerError => DestinationErrorKind.Unavailable,
            HttpStatusCode.UnprocessableEntity when sqlState.StartsWith("42", StringComparison.Ordinal) || sqlState == "02000" => DestinationErrorKind.Setup,
            HttpStatusCode.UnprocessableEntity when sqlState.StartsWith("22", StringComparison.Ordinal) || sqlState.StartsWith("23", StringComparison.Ordinal) => DestinationErrorKind.RowsRejected,
            HttpStatusCode.UnprocessableEntity => DestinationErrorKind.Unavailable,
            // 400, 404, 405, 415: our request is wrong for this account: a person must look.
            _ => DestinationErrorKind.Setup,
        };
        var retryAfter = answer.RetryAfter?.Delta ?? (answer.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return new DestinationException(kind, message) { RetryAfter = retryAfter > TimeSpan.Zero ? retryAfter : null };
    }

    private sealed record Answer(HttpStatusCode Status, JsonNode? Body, RetryConditionHeaderValue? RetryAfter);
}
