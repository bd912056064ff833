namespace EventIO.Tests.Infrastructure;

/// <summary>
/// Every deadline the tests use. All scale with EVENTIO_TEST_TIMEOUT_MULTIPLIER (e.g. 3 on a slow CI box).
/// </summary>
public static class TestTimeouts
{
    private static readonly double s_multiplier =
        double.TryParse(Environment.GetEnvironmentVariable("EVENTIO_TEST_TIMEOUT_MULTIPLIER"), System.Globalization.CultureInfo.InvariantCulture, out double m) && m > 0 ? m : 1;

    /// <summary>How long something that should happen may take before the test fails (10 s).</summary>
    public static TimeSpan Passing => Scale(TimeSpan.FromSeconds(10));

    /// <summary>How long to watch for something that must not happen (250 ms).</summary>
    public static TimeSpan NothingHappens => Scale(TimeSpan.FromMilliseconds(250));

    /// <summary>Scales an explicit deadline.</summary>
    public static TimeSpan Scale(TimeSpan t) => TimeSpan.FromTicks((long)(t.Ticks * s_multiplier));
}
