namespace EventPlatform.SchemaRegistry.Security;

/// <summary>
/// Who may use the registry (section <c>Registry:Auth</c>). Callers authenticate as Confluent
/// Schema Registry's do, with HTTP Basic (Confluent's clients: <c>basic.auth.user.info</c>), or
/// with the platform's JWT as a bearer token (<c>JWT_SECRET_KEY</c>, scopes in its <c>scope</c>
/// claim). On by default; a registry with neither users nor a JWT secret refuses to start.
/// </summary>
public sealed class RegistryAuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Registry:Auth";

    /// <summary>
    /// Off only when set to false explicitly: then anyone who reaches the registry may change and
    /// delete every schema (logged as a warning at start).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Whether callers without credentials may read (GETs, lookups, compatibility tests).</summary>
    public bool AnonymousRead { get; set; } = true;

    /// <summary>The realm named in <c>WWW-Authenticate</c>.</summary>
    public string Realm { get; set; } = "SchemaRegistry";

    /// <summary>
    /// Basic users by name: <c>Registry:Auth:Users:&lt;name&gt;:Password</c> (or <c>PasswordHash</c>,
    /// from the <c>registry-password</c> command) and <c>Scopes</c> (<c>schemas:read</c>,
    /// <c>schemas:write</c> or <c>schemas:admin</c>).
    /// </summary>
    public Dictionary<string, RegistryUserOptions> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A file of more users, one a line as <c>name: secret[, scope ...]</c> (<c>#</c> starts a
    /// comment; the secret is a password or a <c>pbkdf2-sha256$...</c> hash and has no comma). Read at start.
    /// </summary>
    public string? UsersFile { get; set; }
}

/// <summary>One Basic user.</summary>
public sealed class RegistryUserOptions
{
    /// <summary>The password in clear (prefer <see cref="PasswordHash"/> in files that others may read).</summary>
    public string? Password { get; set; }

    /// <summary>The password as <c>pbkdf2-sha256$iterations$salt$hash</c> (the <c>registry-password</c> command makes one).</summary>
    public string? PasswordHash { get; set; }

    /// <summary>Space- or comma-separated: <c>schemas:read</c>, <c>schemas:write</c>, <c>schemas:admin</c>.</summary>
    public string? Scopes { get; set; }
}
