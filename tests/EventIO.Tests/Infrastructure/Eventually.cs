using System.Runtime.CompilerServices;

namespace EventIO.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline, failing with the caller's line if it never holds.</summary>
public static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> is true, or fails after <paramref name="timeout"/> (default <see cref="TestTimeouts.Passing"/>).</summary>
    public static void True(Func<bool> condition, TimeSpan? timeout = null, string? because = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        TimeSpan limit = timeout ?? TestTimeouts.Passing;
        if (!SpinWait.SpinUntil(condition, limit))
        {
            Assert.Fail($"Condition not met within {limit} at {Path.GetFileName(file)}:{line}{(because is null ? "" : ": " + because)}");
        }
    }
}
