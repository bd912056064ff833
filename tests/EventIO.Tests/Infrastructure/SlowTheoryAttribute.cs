namespace EventIO.Tests.Infrastructure;

/// <summary>As <see cref="SlowFactAttribute"/>, for a theory: skipped unless EVENTIO_SLOW_TESTS=1.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SlowTheoryAttribute : TheoryAttribute
{
    public SlowTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable(SlowFactAttribute.EnableVariable) != "1")
        {
            Skip = $"slow: run with {SlowFactAttribute.EnableVariable}=1 dotnet test --filter Category=Slow";
        }
    }
}
