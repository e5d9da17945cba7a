using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EventPlatform.Sink.Destinations.Snowflake;

/// <summary>
/// Snowflake's key-pair authentication for the SQL API: a JWT signed RS256 with the user's private
/// key, <c>iss</c> = <c>ACCOUNT.USER.SHA256:&lt;base64 SHA-256 of the public key's DER&gt;</c>,
/// <c>sub</c> = <c>ACCOUNT.USER</c>, <c>iat</c> now and <c>exp</c> within the hour Snowflake allows.
/// A token is reused until five minutes before it expires, or until <see cref="Invalidate"/> (after
/// Snowflake answers 390318, token expired). Thread-safe.
/// </summary>
public sealed class SnowflakeKeyPairToken : IDisposable
{
    /// <summary>How long a token is valid: Snowflake refuses more than an hour.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(59);

    private readonly RSA _key;
    private readonly string _issuer;
    private readonly string _subject;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private (string Token, DateTimeOffset RenewAt)? _current;

    /// <param name="account">The account identifier (upper case, no region).</param>
    /// <param name="user">The user name (upper case).</param>
    /// <param name="privateKey">PEM (<c>-----BEGIN PRIVATE KEY-----</c>, <c>ENCRYPTED PRIVATE KEY</c> or <c>RSA PRIVATE KEY</c>) or the base64 of PKCS#8 DER, as Snowflake's connector takes it.</param>
    /// <param name="passphrase">The key's passphrase when it is encrypted.</param>
    /// <exception cref="ArgumentException">The key cannot be read.</exception>
    public SnowflakeKeyPairToken(string account, string user, string privateKey, string? passphrase, TimeProvider time)
    {
        _key = ReadKey(privateKey, passphrase);
        _time = time;
        Fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()));
        _subject = account + "." + user;
        _issuer = _subject + "." + Fingerprint;
    }

    /// <summary>The public key's fingerprint as Snowflake shows it (<c>DESC USER</c>'s RSA_PUBLIC_KEY_FP).</summary>
    public string Fingerprint { get; }

    /// <summary>A valid token (a new one when the last is near its expiry or was refused).</summary>
    public string Current()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_current is { } cached && now < cached.RenewAt)
            {
                return cached.Token;
            }

            var issuedAt = now.ToUnixTimeSeconds();
            var header = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8);
            var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["iss"] = _issuer,
                ["sub"] = _subject,
                ["iat"] = issuedAt,
                ["exp"] = issuedAt + (long)Lifetime.TotalSeconds,
            }));
            var signed = header + "." + payload;
            var signature = _key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var token = signed + "." + Base64Url(signature);
            _current = (token, now + Lifetime - TimeSpan.FromMinutes(5));
            return token;
        }
    }

    /// <summary>Forgets the token (Snowflake said it expired): the next <see cref="Current"/> signs a new one.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _current = null;
        }
    }

    public void Dispose() => _key.Dispose();

    private static RSA ReadKey(string text, string? passphrase)
    {
        var rsa = RSA.Create();
        try
        {
            var trimmed = text.Trim();
            if (trimmed.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                if (passphrase is not null && trimmed.Contains("ENCRYPTED", StringComparison.Ordinal))
                {
                    rsa.ImportFromEncryptedPem(trimmed, passphrase);
                }
                else
                {
                    rsa.ImportFromPem(trimmed);
                }
            }
            else
            {
                var der = Convert.FromBase64String(string.Concat(trimmed.Where(c => !char.IsWhiteSpace(c))));
                if (passphrase is not null)
                {
                    rsa.ImportEncryptedPkcs8PrivateKey(passphrase, der, out _);
                }
                else
                {
                    rsa.ImportPkcs8PrivateKey(der, out _);
                }
            }

            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            rsa.Dispose();
            throw new ArgumentException("'snowflake.private.key' is not an RSA private key in PEM or base64 PKCS#8 DER (or the passphrase is wrong): " + e.Message, e);
        }
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
