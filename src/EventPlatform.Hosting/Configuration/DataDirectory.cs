using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Configuration;

/// <summary>
/// The directory for state that must survive a restart of a service (./data by default,
/// <c>EVENTPLATFORM_DATA_DIR</c> to move it).
/// </summary>
public static class DataDirectory
{
    public static string Resolve(IConfiguration configuration)
    {
        var path = configuration["DataDir"];
        return Path.GetFullPath(string.IsNullOrWhiteSpace(path) ? "data" : path);
    }

    /// <summary>
    /// The development JWT secret: made once, kept in the data directory, so that tokens minted
    /// by the <c>token</c> command keep working across restarts of <c>up</c>. Never used when
    /// <c>JWT_SECRET_KEY</c> is set.
    /// </summary>
    public static string GetOrCreateDevelopmentJwtSecret(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "dev-jwt-secret");
        if (File.Exists(file))
        {
            var existing = File.ReadAllText(file).Trim();
            if (existing.Length >= 32)
            {
                return existing;
            }
        }

        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        var temp = file + ".tmp";
        File.WriteAllText(temp, secret);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, file, overwrite: true);
        return secret;
    }
}
