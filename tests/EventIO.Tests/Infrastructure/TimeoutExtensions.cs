using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EventIO.Tests.Infrastructure;

/// <summary>Awaits that fail with the caller's file and line instead of hanging.</summary>
public static class TimeoutExtensions
{
    /// <summary>Waits for <paramref name="task"/> up to <see cref="TestTimeouts.Passing"/> (no limit under a debugger).</summary>
    public static async Task DefaultTimeout(this Task task, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        if (Debugger.IsAttached)
        {
            await task;
            return;
        }

        try
        {
            await task.WaitAsync(TestTimeouts.Passing);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {TestTimeouts.Passing} at {Path.GetFileName(file)}:{line}");
        }
    }

    /// <summary>Waits for <paramref name="task"/> up to <see cref="TestTimeouts.Passing"/> and returns its result.</summary>
    public static async Task<T> DefaultTimeout<T>(this Task<T> task, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        if (Debugger.IsAttached)
        {
            return await task;
        }

        try
        {
            return await task.WaitAsync(TestTimeouts.Passing);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {TestTimeouts.Passing} at {Path.GetFileName(file)}:{line}");
        }
    }
}
