using System.Diagnostics;
using PuppeteerSharp;

namespace EventPlatform.Gateway.Tests.Browser;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>), headless, driven over the DevTools protocol by
/// PuppeteerSharp, with a new empty profile of its own. Disposing closes it and kills whatever is
/// left of its process tree, so a failing test leaves no browser behind. Never downloads a browser.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Set to <c>1</c> (CI does) to make a missing Chromium a failure instead of a skip.</summary>
    public const string RequireVariable = "EVENTPLATFORM_REQUIRE_BROWSER";

    /// <summary>Generous: on a loaded 2-core machine a cold Chromium start takes seconds.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);

    // The background-networking, component-update and sync flags keep Chromium from calling
    // Google's hosts, which a machine without internet refuses (many connections at a time).
    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly IBrowser _browser;
    private readonly DirectoryInfo _profile;

    private HeadlessChromium(IBrowser browser, DirectoryInfo profile)
    {
        _browser = browser;
        _profile = profile;
    }

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static bool IsRequired => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public static string NotInstalledReason =>
        $"Chromium is not installed at {ExecutablePath}. Install Debian's package (`apt-get install chromium`) to run the " +
        $"browser tests; .ci/run does, and sets {RequireVariable}=1 so that a missing browser fails there instead of skipping.";

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (!IsInstalled)
        {
            throw new InvalidOperationException(NotInstalledReason);
        }

        var profile = Directory.CreateTempSubdirectory("eventplatform-chromium-");
        try
        {
            var browser = await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = Flags,
                UserDataDir = profile.FullName,
                Timeout = (int)Timeout.TotalMilliseconds,
                ProtocolTimeout = (int)Timeout.TotalMilliseconds,
                // A desktop window: narrower, pages such as /docs fold their navigation away.
                DefaultViewport = new ViewPortOptions { Width = 1400, Height = 1000 },
            });
            return new HeadlessChromium(browser, profile);
        }
        catch
        {
            DeleteProfile(profile);
            throw;
        }
    }

    /// <summary>
    /// A new tab on <paramref name="url"/>, loaded; its waits default to <see cref="Timeout"/>.
    /// <paramref name="beforeLoad"/> sees the tab before it navigates (to watch its requests, say).
    /// </summary>
    public async Task<IPage> OpenAsync(Uri url, Action<IPage>? beforeLoad = null)
    {
        var page = await _browser.NewPageAsync();
        page.DefaultTimeout = (int)Timeout.TotalMilliseconds;
        page.DefaultNavigationTimeout = (int)Timeout.TotalMilliseconds;
        beforeLoad?.Invoke(page);
        var response = await page.GoToAsync(url.ToString(), WaitUntilNavigation.Load);
        Assert.True(response?.Ok, $"{url} answered {response?.Status}");
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        var process = _browser.Process;
        // Renderers and the zygote are children of the browser process: note them while it lives,
        // so that none outlives a browser that did not close cleanly.
        var tree = process is { HasExited: false } ? Descendants(process.Id) : [];
        try
        {
            await _browser.CloseAsync().WaitAsync(CloseTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or PuppeteerException or ObjectDisposedException)
        {
            // Killed below.
        }
        finally
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
            }

            foreach (var pid in tree)
            {
                KillIfChromium(pid);
            }

            _browser.Dispose();
            DeleteProfile(_profile);
        }
    }

    /// <summary>Every process below <paramref name="root"/>, from each process's parent id in /proc.</summary>
    private static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ParentOf(dir) is { } parent)
            {
                parents[pid] = parent;
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var current))
        {
            foreach (var (pid, parent) in parents)
            {
                if (parent == current)
                {
                    found.Add(pid);
                    frontier.Enqueue(pid);
                }
            }
        }

        return found;
    }

    private static int? ParentOf(string procDir)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var stat = File.ReadAllText(Path.Combine(procDir, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // gone meanwhile
        }
    }

    private static void KillIfChromium(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            // The id was noted moments ago; check it is still a Chromium process before ending it.
            if (!process.HasExited && process.ProcessName.Contains("chrom", StringComparison.OrdinalIgnoreCase))
            {
                process.Kill();
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static void DeleteProfile(DirectoryInfo profile)
    {
        try
        {
            profile.Delete(recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A temporary folder; a leftover file of a process still exiting is harmless.
        }
    }
}

/// <summary>
/// A test that needs Chromium: skipped, with the reason, where it is not installed, unless
/// <c>EVENTPLATFORM_REQUIRE_BROWSER=1</c>, where the test runs and fails on the missing browser.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!HeadlessChromium.IsInstalled && !HeadlessChromium.IsRequired)
        {
            Skip = HeadlessChromium.NotInstalledReason;
        }
    }
}
