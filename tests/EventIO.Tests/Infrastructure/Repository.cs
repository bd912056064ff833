namespace EventIO.Tests.Infrastructure;

/// <summary>Where the repository is, for tests that read or build its files.</summary>
public static class Repository
{
    /// <summary>The folder holding EventIO.slnx, found above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "EventIO.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("The repository root (EventIO.slnx) was not found above the test binaries.");
    }
}
