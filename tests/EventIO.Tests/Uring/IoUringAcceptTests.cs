using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>Multishot ACCEPT on a loopback listener: one completion per client, until cancelled.</summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class IoUringAcceptTests
{
    private const ulong AcceptTag = 50;
    private const int O_NONBLOCK = 0x800;    // octal 04000 in /proc/self/fdinfo
    private const int O_CLOEXEC = 0x80000;   // octal 02000000

    [UringFact]
    public void MultishotAccept_DeliversEveryClient_NonBlockingAndCloseOnExec_UntilCancelled()
    {
        const int Clients = 5;
        using IoUring ring = CreateRing(16);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(Loopback.AnyPort);
        listener.Listen(Clients);
        var server = (IPEndPoint)listener.LocalEndPoint!;
        IoUringPrep.Accept(ref ring.GetSqe(), Fd(listener), multishot: true, AcceptTag);
        Assert.Empty(CollectFor(ring, TimeSpan.Zero)); // armed, nobody connecting

        var clients = new List<Socket>();
        var accepted = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(Loopback.TcpConnect(server));
            }

            List<IoUringCompletion> completions = Collect(ring, Clients);

            Assert.Equal(Clients, completions.Count);
            foreach (IoUringCompletion completion in completions)
            {
                Assert.Equal(AcceptTag, completion.UserData);
                Assert.True(completion.Result >= 0, $"accept failed: {completion}");
                Assert.True(completion.HasMore, $"multishot accept ended early: {completion}");
                int flags = OpenFlags(completion.Result);
                Assert.Equal(O_NONBLOCK, flags & O_NONBLOCK);
                Assert.Equal(O_CLOEXEC, flags & O_CLOEXEC);
                accepted.Add(new Socket(new SafeSocketHandle(completion.Result, ownsHandle: true)));
            }

            // Each accepted socket is the server end of a distinct client.
            Assert.Equal(
                clients.Select(c => ((IPEndPoint)c.LocalEndPoint!).Port).Order(),
                accepted.Select(a => ((IPEndPoint)a.RemoteEndPoint!).Port).Order());
            byte* hi = stackalloc byte[] { (byte)'h', (byte)'i' };
            Assert.Equal(2, (int)Libc.send(Fd(accepted[0]), hi, 2, Libc.MSG_NOSIGNAL)); // non-blocking: Socket.Send refuses it
            Socket peer = clients.Single(c => ((IPEndPoint)c.LocalEndPoint!).Port == ((IPEndPoint)accepted[0].RemoteEndPoint!).Port);
            Assert.Equal("hi"u8.ToArray(), Loopback.ReceiveExactly(peer, 2));

            // Cancelling by descriptor (what the backend does before closing the listener) ends it.
            IoUringPrep.CancelFd(ref ring.GetSqe(), Fd(listener), all: true, userData: 51);
            List<IoUringCompletion> end = Collect(ring, 2);
            Assert.Equal(1, Single(end, 51).Result);
            IoUringCompletion last = Single(end, AcceptTag);
            Assert.Equal(-Libc.ECANCELED, last.Result);
            Assert.False(last.HasMore);

            // A client connecting now is queued by the kernel but not accepted through the ring.
            clients.Add(Loopback.TcpConnect(server));
            Assert.Empty(CollectFor(ring, TestTimeouts.NothingHappens));
        }
        finally
        {
            accepted.ForEach(s => s.Dispose());
            clients.ForEach(s => s.Dispose());
        }
    }
}
