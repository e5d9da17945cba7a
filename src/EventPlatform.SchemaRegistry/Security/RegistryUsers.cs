using System.Security.Cryptography;
using System.Text;

namespace EventPlatform.SchemaRegistry.Security;

/// <summary>
/// The Basic users of the registry, from configuration and the users file, checked in constant
/// time. Passwords in clear are kept only as their SHA-256 digest; hashed ones (PBKDF2) are
/// derived once per process and user, after which the digest of the password that matched is
/// compared instead, because Confluent's clients send their credentials on every request.
/// Thread-safe.
/// </summary>
public sealed class RegistryUsers
{
    // Failed PBKDF2 checks cost ~0.3 s of CPU each: at most one runs at a time, so a guesser cannot take every core.
    private static readonly TimeSpan SlowCheckWait = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _slowChecks = new(1, 1);
    private readonly Dictionary<string, User> _users;
    private readonly byte[] _decoy = SHA256.HashData(RandomNumberGenerator.GetBytes(32));

    private RegistryUsers(Dictionary<string, User> users) => _users = users;

    /// <summary>How many users there are.</summary>
    public int Count => _users.Count;

    /// <summary>Builds the table; <paramref name="errors"/> lists what is wrong in the settings.</summary>
    public static RegistryUsers Load(RegistryAuthOptions options, out List<string> errors)
    {
        errors = [];
        var users = new Dictionary<string, User>(StringComparer.Ordinal);
        foreach (var (name, user) in options.Users)
        {
            var secret = !string.IsNullOrEmpty(user.PasswordHash) ? user.PasswordHash : user.Password;
            if (!string.IsNullOrEmpty(user.PasswordHash) && !user.PasswordHash.StartsWith(PasswordHash.Prefix, StringComparison.Ordinal))
            {
                errors.Add($"Registry:Auth:Users:{name}:PasswordHash: a password hash must start with {PasswordHash.Prefix}");
                continue;
            }

            Add(users, errors, $"Registry:Auth:Users:{name}", name, secret, user.Scopes);
        }

        if (!string.IsNullOrWhiteSpace(options.UsersFile))
        {
            ReadFile(options.UsersFile, users, errors);
        }

        return new RegistryUsers(users);
    }

    /// <summary>The right of <paramref name="name"/> when <paramref name="password"/> is its password; null otherwise.</summary>
    public async ValueTask<RegistryScope?> CheckAsync(string name, byte[] password, CancellationToken cancellationToken)
    {
        var digest = SHA256.HashData(password);
        if (!_users.TryGetValue(name, out var user))
        {
            // As long as a wrong password, so that answers do not tell which users exist.
            _ = CryptographicOperations.FixedTimeEquals(digest, _decoy);
            return null;
        }

        if (user.Digest is { } known)
        {
            return CryptographicOperations.FixedTimeEquals(digest, known) ? user.Scope : null;
        }

        if (Volatile.Read(ref user.VerifiedDigest) is { } verified && CryptographicOperations.FixedTimeEquals(digest, verified))
        {
            return user.Scope;
        }

        if (!await _slowChecks.WaitAsync(SlowCheckWait, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            if (!user.Hash!.Matches(password))
            {
                return null;
            }
        }
        finally
        {
            _slowChecks.Release();
        }

        Volatile.Write(ref user.VerifiedDigest, digest);
        return user.Scope;
    }

    private static void ReadFile(string path, Dictionary<string, User> users, List<string> errors)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"Registry:Auth:UsersFile '{path}' cannot be read: {e.Message}");
            return;
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var where = $"{path}, line {i + 1}";
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                errors.Add($"{where}: expected 'name: secret, scope ...'");
                continue;
            }

            var rest = line[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            Add(users, errors, where, line[..colon].Trim(), rest.Length > 0 ? rest[0] : null, string.Join(' ', rest.Skip(1)));
        }
    }

    private static void Add(Dictionary<string, User> users, List<string> errors, string where, string name, string? secret, string? scopes)
    {
        if (name.Length == 0 || name.Contains(':', StringComparison.Ordinal))
        {
            errors.Add($"{where}: a user name must be non-empty and have no ':' (Basic authentication splits there)");
            return;
        }

        if (string.IsNullOrEmpty(secret))
        {
            errors.Add($"{where}: user '{name}' needs a Password or PasswordHash");
            return;
        }

        var unknown = RegistryScopes.Unknown(scopes).ToList();
        var scope = RegistryScopes.Highest(scopes);
        if (unknown.Count > 0 || scope == RegistryScope.None)
        {
            errors.Add($"{where}: user '{name}' needs Scopes from {RegistryScopes.Read}, {RegistryScopes.Write}, {RegistryScopes.Admin}" +
                (unknown.Count > 0 ? $" (unknown: {string.Join(", ", unknown)})" : ""));
            return;
        }

        if (users.ContainsKey(name))
        {
            errors.Add($"{where}: user '{name}' is defined twice");
            return;
        }

        if (secret.StartsWith(PasswordHash.Prefix, StringComparison.Ordinal))
        {
            if (!PasswordHash.TryParse(secret, out var hash, out var error))
            {
                errors.Add($"{where}: user '{name}': {error}");
                return;
            }

            users[name] = new User(scope, null, hash);
        }
        else
        {
            users[name] = new User(scope, SHA256.HashData(Encoding.UTF8.GetBytes(secret)), null);
        }
    }

    private sealed class User(RegistryScope scope, byte[]? digest, PasswordHash? hash)
    {
        public RegistryScope Scope { get; } = scope;

        /// <summary>SHA-256 of a password given in clear.</summary>
        public byte[]? Digest { get; } = digest;

        public PasswordHash? Hash { get; } = hash;

        /// <summary>SHA-256 of the password that last matched <see cref="Hash"/>.</summary>
        public byte[]? VerifiedDigest;
    }
}
