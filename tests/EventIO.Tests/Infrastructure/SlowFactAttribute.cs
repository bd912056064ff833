namespace EventIO.Tests.Infrastructure;

/// <summary>
/// A test too slow for every run (the million-datagram flood): skipped unless EVENTIO_SLOW_TESTS=1.
/// Run them with <c>EVENTIO_SLOW_TESTS=1 dotnet test --filter Category=Slow</c>; mark each with
/// <c>[Trait("Category", "Slow")]</c> too, so the filter finds it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SlowFactAttribute : FactAttribute
{
    /// <summary>The environment variable that enables slow tests.</summary>
    public const string EnableVariable = "EVENTIO_SLOW_TESTS";

    public SlowFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(EnableVariable) != "1")
        {
            Skip = $"slow: run with {EnableVariable}=1 dotnet test --filter Category=Slow";
        }
    }
}
