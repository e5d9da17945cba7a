namespace EventPlatform.SchemaRegistry.Security;

/// <summary>
/// A right on the registry. Rights are ordered: <see cref="Admin"/> implies <see cref="Write"/>,
/// which implies <see cref="Read"/>, so a caller holds one level, the highest it was granted.
/// </summary>
public enum RegistryScope
{
    /// <summary>No right at all.</summary>
    None = 0,

    /// <summary><c>schemas:read</c>: every GET, lookups, compatibility tests.</summary>
    Read = 1,

    /// <summary><c>schemas:write</c>: register schemas, soft-delete subjects and versions.</summary>
    Write = 2,

    /// <summary><c>schemas:admin</c>: compatibility configuration, modes, permanent deletes.</summary>
    Admin = 3,
}

/// <summary>The scope names, as a JWT's <c>scope</c> claim and a user's <c>Scopes</c> setting carry them.</summary>
public static class RegistryScopes
{
    public const string Read = "schemas:read";
    public const string Write = "schemas:write";
    public const string Admin = "schemas:admin";

    /// <summary>The name of a right.</summary>
    public static string Name(RegistryScope scope) => scope switch
    {
        RegistryScope.Read => Read,
        RegistryScope.Write => Write,
        RegistryScope.Admin => Admin,
        _ => "none",
    };

    /// <summary>The right a scope name grants; <see cref="RegistryScope.None"/> for scopes of other services (<c>events:write</c>).</summary>
    public static RegistryScope Parse(string scope) => scope switch
    {
        Read => RegistryScope.Read,
        Write => RegistryScope.Write,
        Admin => RegistryScope.Admin,
        _ => RegistryScope.None,
    };

    /// <summary>The highest right among space- or comma-separated scope names.</summary>
    public static RegistryScope Highest(string? scopes)
    {
        var level = RegistryScope.None;
        foreach (var item in (scopes ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            var granted = Parse(item);
            if (granted > level)
            {
                level = granted;
            }
        }

        return level;
    }

    /// <summary>The names among <paramref name="scopes"/> that are no registry scope (for configuration errors).</summary>
    public static IEnumerable<string> Unknown(string? scopes) =>
        (scopes ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Where(s => Parse(s) == RegistryScope.None);
}
