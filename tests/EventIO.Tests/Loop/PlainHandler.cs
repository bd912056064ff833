using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Tests.Loop;

/// <summary>A handler that is not <see cref="IDisposable"/> and throws when it is asked to receive.</summary>
internal sealed class PlainHandler(Socket socket) : IEventHandler
{
    public SafeHandle Handle => socket.SafeHandle;

    public bool WantsToReceive => true;

    public bool WantsToSend => false;

    public int ReceiveCount { get; private set; }

    public void HandleReceive()
    {
        ReceiveCount++;
        throw new InvalidOperationException("plain handler failed");
    }

    public void HandleSend()
    {
    }
}
