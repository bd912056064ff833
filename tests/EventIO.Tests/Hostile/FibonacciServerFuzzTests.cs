using System.Diagnostics;
using System.Net;
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
/// Fuzzes a live <see cref="UdpFibonacciServer"/> (real <see cref="WorkerPool"/>, largest n 20 so each
/// computation is quick) with ten thousand datagrams from the fuzz generator, up to the largest UDP payload.
/// Every datagram must get exactly one reply, and that reply must be what the oracle says: fib(n) or the
/// right <c>error: </c>.
/// </summary>
/// <remarks>
/// Pipelined with one socket per request in flight (64 lanes, each waits for its reply before its next
/// request), so replies are matched without relying on order: errors are answered on the loop at once,
/// numbers later from a worker. The large datagrams go one at a time and the server's receive buffer is
/// raised, so that the kernel never has a reason to drop one (the test is about parsing, not about UDP loss).
/// </remarks>
[Collection(HostileHeavyDefinition.Name)]
public class FibonacciServerFuzzTests(ITestOutputHelper output)
{
    private const int MaxN = 20;
    private const int RandomDatagrams = 10_000;
    private const int Lanes = 64;
    private const int LargeDatagram = 4096;

    [Fact]
    public async Task EveryDatagramGetsExactlyOneCorrectReply_AndTheServerStillAnswers()
    {
        var rng = new Random(FibonacciFuzz.Seed + 1);
        List<byte[]> requests = [.. FibonacciFuzz.Fixed(MaxN)];
        for (int i = 0; i < RandomDatagrams; i++)
        {
            // One in four is valid for sure, so that the worker path (replies posted back from other
            // threads, interleaved with the loop's own error replies) carries a good share of the load.
            requests.Add(i % 4 == 0 ? FibonacciFuzz.NextValid(rng, MaxN) : FibonacciFuzz.Next(rng, MaxN).Request);
        }

        // A few more of the largest datagrams UDP can carry: digits, and junk.
        requests.Add(Encoding.ASCII.GetBytes(new string('9', FibonacciFuzz.MaxDatagram)));
        requests.Add(ServerTestSupport.RandomBytes(FibonacciFuzz.MaxDatagram, 7));
        requests.Add(Encoding.ASCII.GetBytes(new string(' ', FibonacciFuzz.MaxDatagram - 2) + "10"));

        FibonacciExpectation[] expected = [.. requests.Select(r => FibonacciFuzz.Expect(r, MaxN))];
        int invalid = expected.Count(e => !e.Valid);
        Assert.InRange(invalid, requests.Count / 10, requests.Count - (requests.Count / 10)); // a real mix of both

        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 2, queueCapacity: 1024);
        var serverOptions = new UdpServerOptions { ReceiveBufferSize = 4 * 1024 * 1024 };
        UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool, MaxN, serverOptions));
        long rcvbufErrorsBefore = HostileSupport.UdpReceiveBufferErrors();

        using var deadline = new CancellationTokenSource(ServerTestSupport.BulkDeadline);
        using var largeGate = new SemaphoreSlim(1);
        int next = -1;
        var watch = Stopwatch.StartNew();
        Task[] lanes = [.. Enumerable.Range(0, Lanes).Select(lane => Task.Run(() => RunLaneAsync(lane)))];
        try
        {
            await Task.WhenAll(lanes).WaitAsync(ServerTestSupport.BulkDeadline + TestTimeouts.Passing);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            await deadline.CancelAsync();
            Assert.Fail($"seed {FibonacciFuzz.Seed}: the fuzz run failed after {watch.Elapsed.TotalSeconds:F1} s " +
                $"(kernel UDP receive-buffer drops +{HostileSupport.UdpReceiveBufferErrors() - rcvbufErrorsBefore}): {ex.GetType().Name}: {ex.Message}");
        }

        TimeSpan elapsed = watch.Elapsed;
        (long received, long sent, long dropped, long invalidCounted, long busy) = loopThread.Invoke(() =>
            (server.DatagramsReceived, server.RepliesSent, server.RepliesDropped, Totals(server).InvalidRequests, Totals(server).BusyReplies));
        output.WriteLine($"seed {FibonacciFuzz.Seed}: {requests.Count} datagrams ({invalid} invalid, {requests.Sum(r => (long)r.Length)} bytes) in {elapsed.TotalSeconds:F1} s; server received {received}, sent {sent}, dropped {dropped}, busy {busy}");

        // Exactly one reply each, from the server's side too: nothing lost, nothing sent twice (each lane
        // also sent one probe at the end).
        Assert.Equal(requests.Count + Lanes, received);
        Assert.Equal(requests.Count + Lanes, sent);
        Assert.Equal(0, dropped);
        Assert.Equal(0, busy);
        Assert.Equal(invalid, invalidCounted);

        using Socket client = Loopback.UdpClient();
        Assert.Equal("89", Loopback.UdpRequest(client, server.LocalEndPoint, "10"u8));
        Assert.False(loopThread.Invoke(() => server.IsClosed));
        Assert.Null(loopThread.Failure);

        async Task RunLaneAsync(int lane)
        {
            using Socket socket = Loopback.UdpClient();
            var buffer = new byte[65536];
            int index;
            while ((index = Interlocked.Increment(ref next)) < requests.Count)
            {
                byte[] request = requests[index];
                bool large = request.Length > LargeDatagram;
                if (large)
                {
                    await largeGate.WaitAsync(deadline.Token);
                }

                SocketReceiveFromResult result;
                try
                {
                    await socket.SendToAsync(request, SocketFlags.None, server.LocalEndPoint, deadline.Token);
                    ValueTask<SocketReceiveFromResult> receive = socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), deadline.Token);
                    try
                    {
                        result = await receive.AsTask().WaitAsync(TestTimeouts.Passing, deadline.Token);
                    }
                    catch (TimeoutException)
                    {
                        throw new TimeoutException($"lane {lane}: no reply to request #{index} {FibonacciParserFuzzTests.Describe(request)} within {TestTimeouts.Passing}");
                    }
                }
                finally
                {
                    if (large)
                    {
                        largeGate.Release();
                    }
                }

                Assert.Equal(server.LocalEndPoint, result.RemoteEndPoint);
                string reply = Encoding.ASCII.GetString(buffer, 0, result.ReceivedBytes);
                string want = expected[index].Reply;
                Assert.True(
                    reply == want,
                    $"seed {FibonacciFuzz.Seed}: request #{index} {FibonacciParserFuzzTests.Describe(request)}: expected '{want}', got '{reply}' (lane {lane})");
                Assert.True(reply.StartsWith("error:", StringComparison.Ordinal) || long.TryParse(reply, out _), $"request #{index}: malformed reply '{reply}'");
            }

            // Nothing more may be on its way to this lane: a second reply to its last request would be
            // waiting now, or arrive before the answer to this probe.
            await socket.SendToAsync("3"u8.ToArray(), SocketFlags.None, server.LocalEndPoint, deadline.Token);
            SocketReceiveFromResult probe = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), deadline.Token).AsTask().WaitAsync(TestTimeouts.Passing, deadline.Token);
            Assert.Equal("3", Encoding.ASCII.GetString(buffer, 0, probe.ReceivedBytes));
        }
    }

    /// <summary>The server under test: <see cref="UdpFibonacciServer"/>; <see cref="AsyncFibonacciServerFuzzTests"/> fuzzes <see cref="AsyncUdpFibonacciServer"/>.</summary>
    protected virtual UdpServer CreateServer(WorkerPool pool, int maxN, UdpServerOptions? options)
        => new UdpFibonacciServer(Loopback.AnyPort, pool, maxN, options);

    private static IFibonacciServer Totals(UdpServer server) => (IFibonacciServer)server;
}
