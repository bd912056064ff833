using System.Net.Sockets;
using System.Text;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;
using EventIO.Work;
using Xunit.Abstractions;

namespace EventIO.Tests.Hostile;

/// <summary>
/// UDP clients that vanish before their reply: each reply lands on a closed port and the kernel answers it
/// with ICMP port unreachable. The echo and Fibonacci servers must keep answering everyone else.
/// </summary>
/// <remarks>
/// The loop is held while a round's clients send and close, so every one of their replies is sent after
/// the port is gone (the kernel's Udp NoPorts counter proves the replies really hit closed ports).
/// </remarks>
public sealed class UdpDeadPeerTests(ITestOutputHelper output)
{
    [Fact]
    public void RepliesToClosedPorts_DoNotStopTheEchoAndFibonacciServers()
    {
        const int Rounds = 20;
        const int DeadClientsPerRound = 50;
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(2, 256);
        UdpEchoServer echo = ServerTestSupport.StartUdpEcho(loopThread);
        UdpFibonacciServer fib = ServerTestSupport.Start(loopThread, loop => new UdpFibonacciServer(Loopback.AnyPort, pool, maxN: 20));
        using Socket live = Loopback.UdpClient();
        long noPortsBefore = HostileSupport.UdpNoPorts();

        for (int round = 0; round < Rounds; round++)
        {
            byte[] ping = Encoding.ASCII.GetBytes($"live {round}");
            int n = round % 21;
            using (new LoopHold(loopThread))
            {
                for (int i = 0; i < DeadClientsPerRound; i++)
                {
                    using Socket dead = Loopback.UdpClient();
                    dead.SendTo(Encoding.ASCII.GetBytes($"dead {round}.{i}"), echo.LocalEndPoint);
                    dead.SendTo(Encoding.ASCII.GetBytes((i % 21).ToString(System.Globalization.CultureInfo.InvariantCulture)), fib.LocalEndPoint);
                    if (i == DeadClientsPerRound / 2)
                    {
                        // A live client in the middle of the dead ones.
                        live.SendTo(ping, echo.LocalEndPoint);
                        live.SendTo(Encoding.ASCII.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture)), fib.LocalEndPoint);
                    }
                }
            }

            // The live client gets both answers (in either order: the Fibonacci one comes from a worker).
            var answers = new HashSet<string>(StringComparer.Ordinal)
            {
                Encoding.ASCII.GetString(ServerTestSupport.ReceiveDatagram(live, out _)),
                Encoding.ASCII.GetString(ServerTestSupport.ReceiveDatagram(live, out _)),
            };
            Assert.Equal(new HashSet<string>(StringComparer.Ordinal) { $"live {round}", FibOf(n) }, answers);

            // Every reply of the round has been handed to the kernel before the next round opens new ports.
            int expected = (round + 1) * (DeadClientsPerRound + 1);
            Eventually.True(
                () => loopThread.Invoke(() => Answered(echo) == expected && Answered(fib) == expected),
                because: $"round {round}: both servers should answer all {expected} requests so far");
            Assert.Null(loopThread.Failure);
        }

        long noPorts = HostileSupport.UdpNoPorts() - noPortsBefore;
        (long echoSent, long echoDropped, long echoErrors, long fibSent, long fibDropped, long fibErrors, bool echoClosed, bool fibClosed) = loopThread.Invoke(() =>
            (echo.RepliesSent, echo.RepliesDropped, echo.ReceiveErrors, fib.RepliesSent, fib.RepliesDropped, fib.ReceiveErrors, echo.IsClosed, fib.IsClosed));
        output.WriteLine($"NoPorts +{noPorts}; echo sent {echoSent} dropped {echoDropped} receive errors {echoErrors}; fib sent {fibSent} dropped {fibDropped} receive errors {fibErrors}");

        // The kernel counter is machine-wide and only grows, so this cannot pass by accident; the slack allows
        // for another process that happened to bind one of the freed ports before its reply arrived.
        long deadReplies = 2L * Rounds * DeadClientsPerRound;
        Assert.True(noPorts >= deadReplies * 9 / 10, $"Only {noPorts} of {deadReplies} replies reached closed ports: the test did not exercise port unreachable.");
        Assert.False(echoClosed);
        Assert.False(fibClosed);
        Assert.Equal(2, loopThread.Invoke(() => loopThread.Loop.HandlerCount));
        Assert.Equal("after", Encoding.ASCII.GetString(ServerTestSupport.Exchange(live, echo.LocalEndPoint, "after"u8)));
        Assert.Equal("89", Loopback.UdpRequest(live, fib.LocalEndPoint, "10"u8));
        Assert.Null(loopThread.Failure);
    }

    private static long Answered(UdpServer server) => server.RepliesSent + server.RepliesDropped;

    private static string FibOf(int n)
    {
        long a = 1, b = 1;
        for (int i = 0; i < n; i++)
        {
            (a, b) = (b, a + b);
        }

        return a.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
