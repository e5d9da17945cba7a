using EventPlatform.Hosting.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace EventPlatform.Hosting.Tests;

/// <summary>The builder every service starts from.</summary>
public sealed class PlatformWebApplicationTests
{
    [Fact]
    public void Configuration_files_are_read_once_and_not_watched_for_changes()
    {
        var builder = PlatformWebApplication.CreateBuilder(["--Some:Setting=1"], overrides: null);

        var files = ((IConfigurationRoot)builder.Configuration).Providers.OfType<JsonConfigurationProvider>().ToList();

        Assert.NotEmpty(files); // appsettings.json and appsettings.{Environment}.json, both optional
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, f.Source.Path));
        Assert.Equal("1", builder.Configuration["Some:Setting"]);
    }
}
