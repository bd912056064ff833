using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary>
/// A server stopped (SIGSTOP) for three seconds under TCP and UDP load, then continued: no TCP byte lost or
/// changed, every UDP request after the resume answered, and the idle timeout closes only the peer that was
/// really silent, not every connection whose deadline passed while the process was stopped.
/// </summary>
public sealed class StopContinueTests
{
    private const int Clients = 8, Chunk = 4096;

    // Both faults this found are fixed in the loop: the idle check read a fresh clock in a turn that resumed
    // after the stop, and a stop landing after the wait returned left I/O out of the turn whose timers ran.
    [Theory]
    [InlineData("epoll")]
    [InlineData("io_uring")]
    public void StoppedAndContinued_UnderLoad_LosesNothing_AndClosesOnlyTheSilentPeer(string backend) => StopAndContinue(backend);

    private static void StopAndContinue(string backend)
    {
        using CliProcess serve = CliProcess.Start("serve", "--backend", backend, "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2", "--idle-timeout", "2");
        Dictionary<string, int> ports = serve.ReadListeners();
        var tcp = new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"]);
        var udp = new IPEndPoint(IPAddress.Loopback, ports["udp-echo"]);
        using Socket silent = Loopback.TcpConnect(tcp);

        using var stop = new CancellationTokenSource();
        long[] rounds = new long[Clients];
        var failures = new Exception?[Clients];
        Thread[] clients = [.. Enumerable.Range(0, Clients).Select(i => new Thread(() =>
        {
            try
            {
                Echo(tcp, i, rounds, stop.Token);
            }
            catch (Exception ex)
            {
                failures[i] = ex;
            }
        }) { IsBackground = true })];
        foreach (Thread client in clients)
        {
            client.Start();
        }

        Eventually.True(() => rounds.All(r => Volatile.Read(ref r) > 10), because: "every client echoing");

        // UDP requests in flight while the server stops: those the kernel queued are answered on resume.
        using Socket udpClient = Loopback.UdpClient();
        for (int i = 0; i < 20; i++)
        {
            udpClient.SendTo(BitConverter.GetBytes(i), udp);
        }

        serve.Signal("STOP");
        long[] atStop = [.. rounds.Select(r => Volatile.Read(ref r))];
        Assert.False(serve.ExitsWithin(TimeSpan.FromSeconds(3)), "the server exited while stopped"); // stopped for 3 s, the idle timeout is 2
        serve.Signal("CONT");

        // Every client carries on, past where it was when the server stopped, with every byte verified.
        Eventually.True(() => failures.Any(f => f is not null) || Enumerable.Range(0, Clients).All(i => Volatile.Read(ref rounds[i]) > atStop[i] + 20), because: "every client echoing again after SIGCONT");
        Assert.True(failures.All(f => f is null), string.Join("\n", failures.Where(f => f is not null).Select(f => f!.Message)) + "\nserver: " + serve.StandardError);
        var seen = new HashSet<int>();
        var reply = new byte[64];
        while (seen.Count < 20)
        {
            Assert.Equal(4, udpClient.Receive(reply)); // the datagrams queued while stopped: answered, none lost on loopback
            seen.Add(BitConverter.ToInt32(reply));
        }

        for (int i = 0; i < 50; i++)
        {
            Assert.Equal($"after {i}", Loopback.UdpRequest(udpClient, udp, System.Text.Encoding.ASCII.GetBytes($"after {i}")));
        }

        // The silent peer really was idle for longer than the timeout: closed. The busy ones were not.
        Assert.Equal(0, silent.Receive(new byte[1]));
        stop.Cancel();
        foreach (Thread client in clients)
        {
            Assert.True(client.Join(TestTimeouts.Passing), "a client did not finish");
        }

        Assert.True(failures.All(f => f is null), string.Join("\n", failures.Where(f => f is not null).Select(f => f!.Message)) + "\nserver: " + serve.StandardError);

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains("1 closed when idle", serve.StandardError, StringComparison.Ordinal);
    }

    // Sends a chunk of a pattern unique to this client and round, reads the echo back and compares, until cancelled.
    private static void Echo(IPEndPoint server, int client, long[] rounds, CancellationToken cancel)
    {
        using Socket socket = Loopback.TcpConnect(server);
        var chunk = new byte[Chunk];
        var echo = new byte[Chunk];
        for (long round = 0; !cancel.IsCancellationRequested; round++)
        {
            for (int j = 0; j < Chunk; j++)
            {
                chunk[j] = (byte)((client * 31) + (round * 7) + j);
            }

            socket.Send(chunk);
            int got = 0;
            while (got < Chunk)
            {
                int n = socket.Receive(echo, got, Chunk - got, SocketFlags.None);
                if (n == 0)
                {
                    throw new IOException($"client {client}: closed by the server in round {round}");
                }

                got += n;
            }

            if (!chunk.AsSpan().SequenceEqual(echo))
            {
                throw new InvalidDataException($"client {client}: round {round} came back changed");
            }

            Interlocked.Increment(ref rounds[client]);
        }
    }
}
