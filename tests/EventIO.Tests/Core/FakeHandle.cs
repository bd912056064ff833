using System.Runtime.InteropServices;

namespace EventIO.Tests.Core;

/// <summary>A handle with a chosen number that owns nothing: closing it only marks it closed.</summary>
internal sealed class FakeHandle : SafeHandle
{
    public FakeHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => true;
}
