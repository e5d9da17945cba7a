using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EventPlatform.SchemaRegistry.Security;

/// <summary>
/// A stored password as <c>pbkdf2-sha256$&lt;iterations&gt;$&lt;salt base64&gt;$&lt;hash base64&gt;</c>
/// (PBKDF2 with HMAC-SHA256), so that configuration files need not hold passwords in clear.
/// </summary>
public sealed class PasswordHash
{
    /// <summary>The prefix that marks a secret as a hash rather than a password.</summary>
    public const string Prefix = "pbkdf2-sha256$";

    /// <summary>Iterations of new hashes: OWASP's figure for PBKDF2-HMAC-SHA256 (2023).</summary>
    public const int DefaultIterations = 600_000;

    private readonly int _iterations;
    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private PasswordHash(int iterations, byte[] salt, byte[] hash)
    {
        _iterations = iterations;
        _salt = salt;
        _hash = hash;
    }

    /// <summary>Hashes a password with a fresh salt, in the stored form.</summary>
    public static string Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Reads the stored form; false (with a reason) when it is not one.</summary>
    public static bool TryParse(string text, out PasswordHash? hash, out string? error)
    {
        hash = null;
        error = null;
        var parts = text.Split('$');
        if (!text.StartsWith(Prefix, StringComparison.Ordinal) || parts.Length != 4)
        {
            error = $"a password hash must look like {Prefix}<iterations>$<salt>$<hash>";
            return false;
        }

        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations is < 10_000 or > 10_000_000)
        {
            error = "the hash's iterations must be a number from 10000 to 10000000";
            return false;
        }

        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var digest = Convert.FromBase64String(parts[3]);
            if (salt.Length < 8 || digest.Length != 32)
            {
                error = "the hash needs a salt of at least 8 bytes and a 32-byte digest";
                return false;
            }

            hash = new PasswordHash(iterations, salt, digest);
            return true;
        }
        catch (FormatException)
        {
            error = "the hash's salt and digest must be base64";
            return false;
        }
    }

    /// <summary>Whether <paramref name="password"/> is the one hashed; constant time in the comparison.</summary>
    public bool Matches(ReadOnlySpan<byte> password)
    {
        Span<byte> derived = stackalloc byte[32];
        Rfc2898DeriveBytes.Pbkdf2(password, _salt, derived, _iterations, HashAlgorithmName.SHA256);
        return CryptographicOperations.FixedTimeEquals(derived, _hash);
    }
}
