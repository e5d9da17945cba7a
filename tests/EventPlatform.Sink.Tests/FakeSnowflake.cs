using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// A local server that follows Snowflake's documented SQL API v2 requests and answers: it checks the
/// key-pair JWT (RS256 signature with the user's public key, iss with the key's fingerprint, sub,
/// iat/exp within an hour), the token-type header, requestId, MULTI_STATEMENT_COUNT against the
/// statements sent and "no bindings in multi-statement requests"; answers 200, or 202 with a
/// statementHandle to poll; and keeps the rows and offsets the sink's MERGEs carry (read back from
/// their JSON literals) so that a round trip can be checked. Faults are queued per request.
/// </summary>
public sealed class FakeSnowflake : IAsyncDisposable
{
    public const string Account = "XY12345";
    public const string User = "KAFKA_CONNECT";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _pendingPolls = new();
    private readonly ConcurrentDictionary<string, string> _requests = new();

    private FakeSnowflake(WebApplication app, RSA key)
    {
        _app = app;
        Key = key;
        Fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    public RSA Key { get; }

    public string Fingerprint { get; }

    public Uri Url => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>Answers to give before the normal one, in order (status, body, Retry-After seconds).</summary>
    public ConcurrentQueue<(int Status, string Body, int? RetryAfter)> Faults { get; } = new();

    /// <summary>How many polls each statement answers 202 to before 200 (0: answered at once with 200).</summary>
    public int AsyncPolls { get; set; }

    public ConcurrentQueue<JsonObject> Accepted { get; } = new();

    public ConcurrentQueue<string> Tokens { get; } = new();

    public ConcurrentQueue<string> RequestTargets { get; } = new();

    public ConcurrentDictionary<string, JsonObject> Events { get; } = new();

    public ConcurrentDictionary<(string Cluster, string Topic, int Partition), long> Offsets { get; } = new();

    public static async Task<FakeSnowflake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSnowflake(app, RSA.Create(2048));
        app.MapPost("/api/v2/statements", (Delegate)fake.SubmitAsync);
        app.MapGet("/api/v2/statements/{handle}", (Delegate)fake.Poll);
        await app.StartAsync();
        return fake;
    }

    public string PrivateKeyPem(string? passphrase = null) => passphrase is null
        ? Key.ExportPkcs8PrivateKeyPem()
        : Key.ExportEncryptedPkcs8PrivateKeyPem(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000));

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Key.Dispose();
    }

    private async Task<IResult> SubmitAsync(HttpContext context)
    {
        RequestTargets.Enqueue(context.Request.Path + context.Request.QueryString);
        if (Authenticate(context) is { } refused)
        {
            return refused;
        }

        if (!Guid.TryParse(context.Request.Query["requestId"], out _))
        {
            return Error(400, "391902", "requestId must be a UUID.");
        }

        if (Faults.TryDequeue(out var fault))
        {
            if (fault.RetryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Text(fault.Body, "application/json", statusCode: fault.Status);
        }

        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var statement = (string)body["statement"]!;
        var statements = SplitStatements(statement);
        var declared = int.Parse((string)body["parameters"]!["MULTI_STATEMENT_COUNT"]!, System.Globalization.CultureInfo.InvariantCulture);
        if (declared != 0 && declared != statements.Count)
        {
            return Error(422, "000008", $"Actual statement count {statements.Count} did not match the desired statement count {declared}.");
        }

        if (statements.Count > 1 && body["bindings"] is not null)
        {
            return Error(422, "000002", "Bind variables are not supported in multi-statement requests.");
        }

        Accepted.Enqueue(body);
        JsonObject result;
        try
        {
            result = Execute(statements, body["bindings"] as JsonObject);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IndexOutOfRangeException or KeyNotFoundException)
        {
            // The fake could not read what it was sent: say what, for the failing test's message.
            return Error(500, "000603", e.ToString());
        }

        var handle = Guid.NewGuid().ToString();
        _requests[handle] = result.ToJsonString();
        if (AsyncPolls > 0)
        {
            _pendingPolls[handle] = AsyncPolls;
            return Results.Text(new JsonObject
            {
                ["code"] = "333334",
                ["message"] = "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
                ["statementHandle"] = handle,
                ["statementStatusUrl"] = "/api/v2/statements/" + handle,
            }.ToJsonString(), "application/json", statusCode: 202);
        }

        result["statementHandle"] = handle;
        return Results.Text(result.ToJsonString(), "application/json");
    }

    private IResult Poll(string handle, HttpContext context)
    {
        RequestTargets.Enqueue(context.Request.Path + context.Request.QueryString);
        if (Authenticate(context) is { } refused)
        {
            return refused;
        }

        if (!_requests.TryGetValue(handle, out var stored))
        {
            return Error(404, "000709", "Statement not found.");
        }

        if (_pendingPolls.TryGetValue(handle, out var left) && left > 0)
        {
            _pendingPolls[handle] = left - 1;
            return Results.Text(new JsonObject { ["code"] = "333334", ["message"] = "Asynchronous execution in progress.", ["statementHandle"] = handle }.ToJsonString(), "application/json", statusCode: 202);
        }

        var result = JsonNode.Parse(stored)!.AsObject();
        if (context.Request.Query.TryGetValue("partition", out var partition))
        {
            // A later partition carries only its data.
            var data = result["partitionData"]?[int.Parse(partition!, System.Globalization.CultureInfo.InvariantCulture)]?.DeepClone();
            return Results.Text(new JsonObject { ["data"] = data }.ToJsonString(), "application/json");
        }

        result["statementHandle"] = handle;
        return Results.Text(result.ToJsonString(), "application/json");
    }

    private IResult? Authenticate(HttpContext context)
    {
        if (context.Request.Headers["X-Snowflake-Authorization-Token-Type"] != "KEYPAIR_JWT")
        {
            return Error(401, "390101", "Authorization token type is missing or not KEYPAIR_JWT.");
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Error(401, "390101", "Authorization header missing.");
        }

        var token = header[7..];
        Tokens.Enqueue(token);
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return Error(401, "390144", "JWT token is invalid.");
        }

        var head = JsonNode.Parse(FromBase64Url(parts[0]))!;
        var claims = JsonNode.Parse(FromBase64Url(parts[1]))!;
        var signed = Key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var iat = (long)claims["iat"]!;
        var exp = (long)claims["exp"]!;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if ((string?)head["alg"] != "RS256" || !signed
            || (string?)claims["iss"] != $"{Account}.{User}.{Fingerprint}"
            || (string?)claims["sub"] != $"{Account}.{User}"
            || exp - iat > 3600 || iat > now + 60)
        {
            return Error(401, "390144", "JWT token is invalid.");
        }

        return exp < now ? Error(401, "390318", "Token expired.") : null;
    }

    private JsonObject Execute(List<string> statements, JsonObject? bindings)
    {
        JsonArray data = [];
        JsonArray rowType = [];
        foreach (var sql in statements)
        {
            if (sql.StartsWith("MERGE INTO", StringComparison.Ordinal))
            {
                var rows = LiteralRows(sql);
                if (sql.Contains(".SINK_OFFSETS", StringComparison.Ordinal))
                {
                    foreach (var row in rows)
                    {
                        Offsets[((string)row["cluster_id"]!, (string)row["topic"]!, (int)row["partition"]!)] = (long)row["next_offset"]!;
                    }
                }
                else if (sql.Contains(".EVENTS ", StringComparison.Ordinal))
                {
                    foreach (var row in rows)
                    {
                        Events[(string)row["event_id"]!] = row;
                    }
                }
            }
            else if (sql.StartsWith("SELECT cluster_id", StringComparison.Ordinal))
            {
                var cluster = (string)bindings!["1"]!["value"]!;
                rowType = [new JsonObject { ["name"] = "CLUSTER_ID" }, new JsonObject { ["name"] = "TOPIC" }, new JsonObject { ["name"] = "PARTITION" }, new JsonObject { ["name"] = "NEXT_OFFSET" }];
                foreach (var ((c, topic, partition), next) in Offsets.Where(o => o.Key.Cluster == cluster))
                {
                    data.Add(new JsonArray(c, topic, partition.ToString(System.Globalization.CultureInfo.InvariantCulture), next.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }

                foreach (var other in Offsets.Keys.Select(k => k.Cluster).Where(c => c != cluster).Distinct())
                {
                    data.Add(new JsonArray(other, null, null, null));
                }
            }
        }

        // Results of more than two rows come in two partitions, as large results do.
        var partitions = data.Count > 2 ? 2 : 1;
        var first = new JsonArray([.. data.Take(2).Select(d => d!.DeepClone())]);
        var second = new JsonArray([.. data.Skip(2).Select(d => d!.DeepClone())]);
        return new JsonObject
        {
            ["code"] = "090001",
            ["message"] = "Statement executed successfully.",
            ["resultSetMetaData"] = new JsonObject
            {
                ["numRows"] = data.Count,
                ["rowType"] = rowType,
                ["partitionInfo"] = new JsonArray([.. Enumerable.Range(0, partitions).Select(_ => (JsonNode)new JsonObject { ["rowCount"] = 0 })]),
            },
            ["data"] = partitions == 1 ? data : first,
            ["partitionData"] = new JsonArray(first.DeepClone(), second),
        };
    }

    /// <summary>The rows of a MERGE's <c>PARSE_JSON('...')</c> literal, unescaped as Snowflake reads a '...' string.</summary>
    private static List<JsonObject> LiteralRows(string sql)
    {
        var start = sql.IndexOf("PARSE_JSON('", StringComparison.Ordinal) + "PARSE_JSON('".Length;
        var text = new StringBuilder();
        for (var i = start; i < sql.Length; i++)
        {
            if (sql[i] == '\\')
            {
                text.Append(sql[++i] switch { 'n' => '\n', 't' => '\t', var c => c });
            }
            else if (sql[i] == '\'' && i + 1 < sql.Length && sql[i + 1] == '\'')
            {
                text.Append('\'');
                i++;
            }
            else if (sql[i] == '\'')
            {
                break;
            }
            else
            {
                text.Append(sql[i]);
            }
        }

        return [.. JsonNode.Parse(text.ToString())!.AsArray().Select(n => n!.AsObject())];
    }

    /// <summary>Statements separated by ';' outside string literals (with Snowflake's '' and backslash escapes).</summary>
    internal static List<string> SplitStatements(string sql)
    {
        var statements = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < sql.Length; i++)
        {
            var c = sql[i];
            if (quoted && c == '\\')
            {
                current.Append(c).Append(sql[++i]);
                continue;
            }

            if (c == '\'')
            {
                quoted = !quoted;
            }

            if (c == ';' && !quoted)
            {
                statements.Add(current.ToString().Trim());
                current.Clear();
                continue;
            }

            current.Append(c);
        }

        if (current.ToString().Trim().Length > 0)
        {
            statements.Add(current.ToString().Trim());
        }

        return statements;
    }

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - (padded.Length % 4)) % 4));
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Text(new JsonObject { ["code"] = code, ["message"] = message, ["sqlState"] = status == 422 ? "42000" : null }.ToJsonString(), "application/json", statusCode: status);
}
