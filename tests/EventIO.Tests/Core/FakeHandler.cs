using System.Runtime.InteropServices;

namespace EventIO.Tests.Core;

/// <summary>A handler over a <see cref="FakeHandle"/> whose wants a test sets, and that can be told to throw when read.</summary>
internal sealed class FakeHandler(int fd) : IEventHandler
{
    public FakeHandle FakeHandle { get; } = new(fd);

    public SafeHandle Handle => FakeHandle;

    public bool WantsToReceive
    {
        get => ThrowOnWants ? throw new InvalidOperationException("wants failed") : field;
        set;
    }

    public bool WantsToSend { get; set; }

    public bool ThrowOnWants { get; set; }

    public void HandleReceive()
    {
    }

    public void HandleSend()
    {
    }
}
