namespace EventPlatform.Testing;

/// <summary>The repository the tests run from: for tests that read its files (rules, sources).</summary>
public static class Repository
{
    /// <summary>The repository's root (where EventPlatform.slnx is), found from the test's directory.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventPlatform.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (EventPlatform.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
