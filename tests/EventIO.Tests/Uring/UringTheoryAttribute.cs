namespace EventIO.Tests.Uring;

/// <summary>
/// A theory that needs io_uring. Skipped, with the kernel's refusal as the reason, only when io_uring_setup
/// is refused on this machine (ENOSYS, EPERM from a container's seccomp profile, the io_uring_disabled
/// sysctl); everywhere else it runs and must pass.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UringTheoryAttribute : TheoryAttribute
{
    public UringTheoryAttribute()
    {
        if (UringFactAttribute.Refusal is string reason)
        {
            Skip = $"io_uring is refused on this machine: {reason}";
        }
    }
}
