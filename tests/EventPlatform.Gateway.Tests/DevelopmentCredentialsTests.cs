using EventPlatform.Hosting.Configuration;

namespace EventPlatform.Gateway.Tests;

/// <summary>The development registry user that <c>up</c> keeps in the data directory.</summary>
public sealed class DevelopmentCredentialsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "eventplatform-data-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void The_credentials_file_is_made_once_readable_by_its_owner_only_and_reused()
    {
        var first = DataDirectory.GetOrCreateDevelopmentRegistryCredentials(_directory);
        var file = Path.Combine(_directory, DataDirectory.DevelopmentRegistryCredentialsFile);

        Assert.Equal(first + "\n", File.ReadAllText(file));
        var colon = first.IndexOf(':', StringComparison.Ordinal);
        Assert.Equal(DataDirectory.DevelopmentRegistryUser, first[..colon]);
        var password = first[(colon + 1)..];
        Assert.True(password.Length >= 32, password);
        Assert.DoesNotContain(':', password); // Confluent's clients split basic.auth.user.info at ':'
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        var written = File.GetLastWriteTimeUtc(file);
        Assert.Equal(first, DataDirectory.GetOrCreateDevelopmentRegistryCredentials(_directory));
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));
        Assert.Equal(first + "\n", File.ReadAllText(file));
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void A_damaged_file_is_replaced_and_a_leftover_temporary_file_does_not_leak_its_mode()
    {
        Directory.CreateDirectory(_directory);
        var file = Path.Combine(_directory, DataDirectory.DevelopmentRegistryCredentialsFile);
        File.WriteAllText(file, "no-colon-here");
        File.WriteAllText(file + ".tmp", "left over");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        var credentials = DataDirectory.GetOrCreateDevelopmentRegistryCredentials(_directory);
        Assert.StartsWith(DataDirectory.DevelopmentRegistryUser + ":", credentials, StringComparison.Ordinal);
        Assert.Equal(credentials + "\n", File.ReadAllText(file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void The_development_jwt_secret_sits_beside_it_also_owner_only()
    {
        var secret = DataDirectory.GetOrCreateDevelopmentJwtSecret(_directory);
        DataDirectory.GetOrCreateDevelopmentRegistryCredentials(_directory);
        Assert.Equal(secret, DataDirectory.GetOrCreateDevelopmentJwtSecret(_directory));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "dev-jwt-secret")));
        }

        Assert.Equal(2, Directory.GetFiles(_directory).Length);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
