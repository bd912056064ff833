using EventIO.Polling;

namespace EventIO.Tests.Uring;

/// <summary>
/// A test that needs io_uring. Skipped, with the kernel's refusal as the reason, only when io_uring_setup
/// is refused on this machine (ENOSYS, EPERM from a container's seccomp profile, the io_uring_disabled
/// sysctl); everywhere else it runs and must pass.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UringFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_refusal = new(ProbeRefusal);

    public UringFactAttribute()
    {
        if (s_refusal.Value is string reason)
        {
            Skip = $"io_uring is refused on this machine: {reason}";
        }
    }

    /// <summary>Null when a ring can be created here, else the one-line reason.</summary>
    public static string? Refusal => s_refusal.Value;

    private static string? ProbeRefusal()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (IoUring.TryCreate(8, out IoUring? ring, out string reason))
        {
            ring.Dispose();
            return null;
        }

        return reason;
    }
}
