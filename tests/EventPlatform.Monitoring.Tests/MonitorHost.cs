using Microsoft.AspNetCore.Builder;

namespace EventPlatform.Monitoring.Tests;

/// <summary>The <c>monitor</c> service as the command runs it, on a free port, polling fast.</summary>
internal sealed class MonitorHost : IAsyncDisposable
{
    private MonitorHost(WebApplication app)
    {
        App = app;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public static async Task<MonitorHost> StartAsync(string bootstrap, params string[] groups)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:Urls"] = "http://127.0.0.1:0",
            ["Monitor:PollInterval"] = "00:00:00.200",
            ["Monitor:RequestTimeout"] = "00:00:01",
            ["Kafka:BootstrapServers"] = bootstrap,
        };
        for (var i = 0; i < groups.Length; i++)
        {
            settings[$"Monitor:ConsumerGroups:{i}"] = groups[i];
        }

        var app = MonitorApp.Create([], settings);
        await app.StartAsync();
        return new MonitorHost(app);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
