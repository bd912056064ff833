using System.Diagnostics;
using System.Runtime.CompilerServices;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Loop;

/// <summary>Drives a loop with <see cref="EventLoop.RunOnce"/> on the test thread, always with a deadline.</summary>
internal static class LoopDriver
{
    /// <summary>A short wait for turns in which nothing is expected to happen.</summary>
    public static TimeSpan Short => TimeSpan.FromMilliseconds(20);

    /// <summary>Runs turns until <paramref name="condition"/> holds, failing after <see cref="TestTimeouts.Passing"/>. Returns the turns run.</summary>
    public static int RunUntil(EventLoop loop, Func<bool> condition, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var sw = Stopwatch.StartNew();
        int turns = 0;
        while (!condition())
        {
            if (sw.Elapsed > TestTimeouts.Passing)
            {
                Assert.Fail($"Condition not met within {TestTimeouts.Passing} ({turns} turns) at {Path.GetFileName(file)}:{line}");
            }

            loop.RunOnce(TimeSpan.FromMilliseconds(50));
            turns++;
        }

        return turns;
    }
}
