using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;
using Xunit.Abstractions;

namespace EventIO.Tests.Hostile;

/// <summary>
/// Connection churn: thousands of short-lived connections that close in every way, and many threads
/// opening and closing at once so that the server keeps reusing descriptor numbers (and registration
/// slots) while events for the previous owner may still be in flight.
/// </summary>
[Collection(HostileHeavyDefinition.Name)]
public class TcpChurnTests(ITestOutputHelper output)
{
    /// <summary>The echo under test: null for <see cref="EventIO.Servers.TcpEchoConnection"/>; <see cref="AsyncTcpChurnTests"/> runs the same tests on <see cref="EventIO.Servers.AsyncTcpEcho"/>.</summary>
    protected virtual Func<SafeSocketHandle, TcpConnection>? Echo => null;

    private enum Ending
    {
        ResetAtOnce,
        FinAtOnce,
        OneByteThenFin,
        OneByteThenReset,
        HalfCloseThenClose,
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FiveThousandRapidConnectCloseCycles_LeaveNoConnection_AndTheServerStillEchoes(int loops)
    {
        const int Cycles = 5000;
        const int Seed = 5000;
        using var loopThread = new LoopThread(loops: loops);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);
        var rng = new Random(Seed);
        var counts = new int[Enum.GetValues<Ending>().Length];
        TimeSpan budget = TestTimeouts.Scale(TimeSpan.FromSeconds(15));
        var watch = Stopwatch.StartNew();

        for (int i = 0; i < Cycles; i++)
        {
            Assert.True(watch.Elapsed < budget, $"Only {i} of {Cycles} cycles within {budget} (seed {Seed}).");
            var ending = (Ending)rng.Next(counts.Length);
            counts[(int)ending]++;
            using Socket client = ServerTestSupport.NewTcpClient();
            client.Connect(server.LocalEndPoint);
            switch (ending)
            {
                case Ending.ResetAtOnce:
                    HostileSupport.Reset(client);
                    break;
                case Ending.FinAtOnce:
                    client.Close();
                    break;
                case Ending.OneByteThenFin:
                    client.Send([(byte)i]);
                    client.Close();
                    break;
                case Ending.OneByteThenReset:
                    client.Send([(byte)i]);
                    HostileSupport.Reset(client);
                    break;
                case Ending.HalfCloseThenClose:
                    client.Send([(byte)i]);
                    client.Shutdown(SocketShutdown.Send);
                    client.Close();
                    break;
            }

            if (i % 500 == 499)
            {
                Assert.Null(loopThread.Failure);
            }
        }

        TimeSpan cycling = watch.Elapsed;
        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0, ServerTestSupport.BulkDeadline, "every churned connection should be closed");
        (long accepted, long rejected) = loopThread.Invoke(() => (server.AcceptedCount, server.RejectedCount));
        output.WriteLine($"{Cycles} cycles in {cycling.TotalSeconds:F1} s (drained after {watch.Elapsed.TotalSeconds:F1} s); endings {string.Join(", ", Enum.GetValues<Ending>().Select(e => $"{e}={counts[(int)e]}"))}; accepted {accepted}, rejected {rejected}");

        // Accept may fail with ECONNABORTED for a connection reset in the backlog, but nearly all get through.
        Assert.InRange(accepted, Cycles * 9L / 10, Cycles);
        Assert.Equal(0, rejected);
        HostileSupport.AssertRecoveredAndServing(loopThread, server, "after churn");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EightThreadsOpeningEchoingAndClosingAtOnce_EachConnectionGetsExactlyItsOwnBytes(int loops)
    {
        const int Threads = 8;
        const int ConnectionsPerThread = 200;
        const int Seed = 808;
        using var loopThread = new LoopThread(loops: loops);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource(ServerTestSupport.BulkDeadline);
        int completed = 0;

        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    RunClient(server, id, ConnectionsPerThread, new Random(Seed + id), stop.Token, ref completed);
                }
                catch (Exception ex)
                {
                    failures.Enqueue($"thread {id}: {ex.GetType().Name}: {ex.Message}");
                    stop.Cancel(); // the others stop too: one failure is enough to report
                }
            })
            { IsBackground = true, Name = $"hostile-client-{t}" };
        }

        var watch = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(ServerTestSupport.BulkDeadline + TestTimeouts.Passing), $"{thread.Name} did not finish.");
        }

        output.WriteLine($"{Volatile.Read(ref completed)} connections in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.IsEmpty, $"seed {Seed}: {string.Join("; ", failures.Take(5))}");
        Assert.Equal(Threads * ConnectionsPerThread, Volatile.Read(ref completed));
        HostileSupport.AssertRecoveredAndServing(loopThread, server, "after concurrent churn");
        Assert.Equal(Threads * ConnectionsPerThread + 1, loopThread.Invoke(() => server.AcceptedCount));
    }

    // One client thread: connection after connection, each with a payload no other connection sends (its
    // thread and sequence number up front, random bytes after), read back in full and compared; then a
    // clean end of stream (nothing extra may follow) or a reset.
    private static void RunClient(TcpServer server, int id, int connections, Random rng, CancellationToken stop, ref int completed)
    {
        var received = new byte[16 * 1024 + 16];
        for (int c = 0; c < connections && !stop.IsCancellationRequested; c++)
        {
            var payload = new byte[16 + rng.Next(1, 16 * 1024)];
            rng.NextBytes(payload);
            BinaryPrimitives.WriteInt32LittleEndian(payload, id);
            BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), c);
            BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), Environment.TickCount64);

            using Socket client = ServerTestSupport.NewTcpClient();
            client.Connect(server.LocalEndPoint);
            client.Send(payload);
            int got = 0;
            while (got < payload.Length)
            {
                int n = client.Receive(received, got, payload.Length - got, SocketFlags.None);
                if (n == 0)
                {
                    throw new IOException($"connection {c}: closed after {got} of {payload.Length} bytes");
                }

                got += n;
            }

            int common = payload.AsSpan().CommonPrefixLength(received.AsSpan(0, got));
            if (common != payload.Length)
            {
                int otherThread = BinaryPrimitives.ReadInt32LittleEndian(received);
                int otherConnection = BinaryPrimitives.ReadInt32LittleEndian(received.AsSpan(4));
                throw new InvalidOperationException(
                    $"connection {c}: echo differs at byte {common} of {payload.Length} (it starts like thread {otherThread}'s connection {otherConnection})");
            }

            if (rng.Next(2) == 0)
            {
                client.Shutdown(SocketShutdown.Send);
                int extra = client.Receive(received);
                if (extra != 0)
                {
                    throw new InvalidOperationException($"connection {c}: {extra} unexpected bytes after the echo");
                }

                client.Close();
            }
            else
            {
                HostileSupport.Reset(client);
            }

            Interlocked.Increment(ref completed);
        }
    }
}
