using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Sink;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>query "SELECT ..."</c>: runs one read-only SELECT against the embedded warehouse through the
/// running sink (<c>POST /query</c> on its port: DuckDB lets one process hold the file, so the
/// query goes to the process that writes) and prints a table. Works while <c>up</c> runs.
/// </summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var sql = new Argument<string>("sql") { Description = "One SELECT statement, e.g. \"SELECT event_type, count(*) FROM events GROUP BY 1\"." };
        var url = new Option<string>("--url") { Description = "The running sink.", DefaultValueFactory = _ => SinkApp.DefaultUrls };
        var token = new Option<string?>("--token") { Description = "A platform bearer token (default: $TOKEN, else one minted with JWT_SECRET_KEY or the development secret in ./data)." };
        var maxRows = new Option<int>("--max-rows") { Description = "The most rows to print.", DefaultValueFactory = _ => 100 };
        var command = new Command("query", "Run a read-only SQL SELECT against the embedded warehouse through the running sink and print a table.") { sql, url, token, maxRows };
        command.SetAction(async (parse, ct) =>
        {
            var bearer = parse.GetValue(token)
                ?? (Environment.GetEnvironmentVariable("TOKEN") is { Length: > 0 } fromEnvironment
                    ? fromEnvironment
                    : PlatformSettings.DevelopmentToken(PlatformSettings.Jwt(PlatformSettings.Load(), allowDevelopmentSecret: true), "query"));
            using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            var request = new JsonObject { ["sql"] = parse.GetValue(sql), ["max_rows"] = parse.GetValue(maxRows) };
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync("query", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"), ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"The sink at {http.BaseAddress} does not answer ({e.Message}). Is 'up' or 'sink' running?").ConfigureAwait(false);
                return 2;
            }

            using (response)
            {
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"{(int)response.StatusCode}: {(string?)body?["message"]}").ConfigureAwait(false);
                    return 1;
                }

                Console.Write(Table(body!));
                return 0;
            }
        });
        return command;
    }

    /// <summary>The answer as a plain text table with a row count.</summary>
    internal static string Table(JsonNode answer)
    {
        var columns = answer["columns"]!.AsArray().Select(c => (string?)c ?? "").ToList();
        var rows = answer["rows"]!.AsArray().Select(r => r!.AsArray().Select(v => v is null ? "NULL" : v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString()).ToList()).ToList();
        var widths = columns.Select((c, i) => Math.Min(60, Math.Max(c.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)))).ToList();
        string Line(IReadOnlyList<string> cells) => string.Join(" | ", cells.Select((c, i) => (c.Length > widths[i] ? c[..(widths[i] - 1)] + "…" : c).PadRight(widths[i]))).TrimEnd();
        var text = new StringBuilder();
        text.AppendLine(Line(columns));
        text.AppendLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            text.AppendLine(Line(row));
        }

        text.AppendLine($"({rows.Count} row{(rows.Count == 1 ? "" : "s")}{((bool?)answer["truncated"] == true ? ", more not shown: --max-rows" : "")})");
        return text.ToString();
    }
}
