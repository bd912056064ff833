using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>
/// 10,000 connections open at once on <c>serve</c>, every one echoing, every byte verified: on one loop and on
/// two. Slow (tens of seconds, 20,000 descriptors between the two processes): run with
/// <c>EVENTIO_SLOW_TESTS=1 dotnet test --filter Category=Slow</c>.
/// </summary>
public sealed class TenThousandConnectionsTests
{
    private const int Connections = 10_000, Rounds = 3, Size = 32;

    [SlowTheory]
    [Trait("Category", "Slow")]
    [InlineData(1)]
    [InlineData(2)]
    public void Serve_TenThousandConnections_AllEchoing_EveryByteVerified(int loops)
    {
        DescriptorLimit? limit = DescriptorLimit.RaiseToHard(); // this process holds the other end of each
        Assert.True(limit is { Soft: > Connections + 200 }, $"this process may open {limit?.Soft} descriptors: raise the hard limit (ulimit -Hn) above {Connections + 200}");
        using CliProcess serve = CliProcess.Start("serve", "--loops", $"{loops}", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2", "--max-connections", $"{Connections}");
        var tcp = new IPEndPoint(IPAddress.Loopback, serve.ReadListeners()["tcp-echo"]);
        var sockets = new List<Socket>(Connections);
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                sockets.Add(Loopback.TcpConnect(tcp));
            }

            Assert.DoesNotContain("below what --max-connections", serve.StandardError, StringComparison.Ordinal);
            var message = new byte[Size];
            for (int round = 0; round < Rounds; round++)
            {
                // Every connection has a message in flight at once, then every echo is read and compared.
                for (int i = 0; i < Connections; i++)
                {
                    Fill(message, i, round);
                    sockets[i].Send(message);
                }

                for (int i = 0; i < Connections; i++)
                {
                    Fill(message, i, round);
                    ServerTestSupport.AssertSameBytes(message, Loopback.ReceiveExactly(sockets[i], Size));
                }
            }
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains($"{Connections} connections accepted, 0 turned away", serve.StandardError, StringComparison.Ordinal);
    }

    private static void Fill(byte[] message, int connection, int round)
    {
        BitConverter.TryWriteBytes(message, connection);
        BitConverter.TryWriteBytes(message.AsSpan(4), round);
        for (int j = 8; j < message.Length; j++)
        {
            message[j] = (byte)(connection + round + j);
        }
    }
}
