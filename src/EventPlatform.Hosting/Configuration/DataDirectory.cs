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
        WriteOwnerOnly(file, secret);
        return secret;
    }

    /// <summary>The name of the development registry user (<see cref="GetOrCreateDevelopmentRegistryCredentials"/>).</summary>
    public const string DevelopmentRegistryUser = "dev";

    /// <summary>The file, in the data directory, of the development registry user.</summary>
    public const string DevelopmentRegistryCredentialsFile = "dev-registry-credentials";

    /// <summary>
    /// The development user of the schema registry that <c>up</c> starts, with every right: made
    /// once, kept in the data directory beside the development JWT secret as one
    /// <c>user:password</c> line (file <c>dev-registry-credentials</c>, readable by its owner only),
    /// so that clients configured with it keep working across restarts of <c>up</c>.
    /// </summary>
    /// <returns>The <c>user:password</c> line, as Confluent's <c>basic.auth.user.info</c> takes it.</returns>
    public static string GetOrCreateDevelopmentRegistryCredentials(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, DevelopmentRegistryCredentialsFile);
        if (File.Exists(file))
        {
            var existing = File.ReadAllText(file).Trim();
            var colon = existing.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && existing.Length - colon - 1 >= 16 && !existing.Contains('\n', StringComparison.Ordinal))
            {
                return existing;
            }
        }

        // URL-safe base64 has no ':' (Confluent's clients split user info there) and needs no quoting in a shell.
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        var credentials = DevelopmentRegistryUser + ":" + password;
        WriteOwnerOnly(file, credentials + "\n");
        return credentials;
    }

    /// <summary>Writes a secret so that it is never readable by others, not even for a moment, and appears whole.</summary>
    private static void WriteOwnerOnly(string file, string content)
    {
        var temp = file + ".tmp";
        // A leftover temporary file would keep its old mode: start from none, and create it owner-only.
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        File.Move(temp, file, overwrite: true);
    }
}
