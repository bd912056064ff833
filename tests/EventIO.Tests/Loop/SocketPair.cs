using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Loop;

/// <summary>
/// A connected TCP pair on 127.0.0.1: <see cref="Local"/> is non-blocking and meant for a handler,
/// <see cref="Remote"/> is blocking (with deadlines) and driven by the test.
/// </summary>
internal sealed class SocketPair : IDisposable
{
    private SocketPair(Socket local, Socket remote)
    {
        Local = local;
        Remote = remote;
    }

    /// <summary>The handler's end: non-blocking.</summary>
    public Socket Local { get; }

    /// <summary>The test's end: blocking, with send and receive timeouts.</summary>
    public Socket Remote { get; }

    /// <summary>Connects a pair through a throw-away listener on 127.0.0.1:0.</summary>
    public static SocketPair Create()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(Loopback.AnyPort);
        listener.Listen(1);
        Socket remote = Loopback.TcpConnect((IPEndPoint)listener.LocalEndPoint!);
        try
        {
            if (!listener.Poll(TestTimeouts.Passing, SelectMode.SelectRead))
            {
                throw new TimeoutException("The loopback connection was not accepted in time.");
            }

            Socket local = listener.Accept();
            local.Blocking = false;
            local.NoDelay = true;
            return new SocketPair(local, remote);
        }
        catch
        {
            remote.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="data"/> from the remote end and waits until the local end is readable.</summary>
    public void SendToLocal(ReadOnlySpan<byte> data)
    {
        Remote.Send(data);
        WaitReadable(Local);
    }

    /// <summary>Waits (with a deadline) until <paramref name="socket"/> polls readable.</summary>
    public static void WaitReadable(Socket socket)
        => Eventually.True(() => socket.Poll(0, SelectMode.SelectRead), because: "the socket never became readable");

    /// <summary>Closes the remote end with a reset (SO_LINGER 0): the local end sees an error/hang-up.</summary>
    public void ResetRemote()
    {
        Remote.LingerState = new LingerOption(true, 0);
        Remote.Close();
    }

    public void Dispose()
    {
        Local.Dispose();
        Remote.Dispose();
    }
}
