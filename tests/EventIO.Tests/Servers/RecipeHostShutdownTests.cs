using System.Net;
using System.Net.Sockets;
using System.Text;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>
/// Shutting the host down while Fibonacci work is queued: every queued request is answered
/// <c>error: shutting down</c> before the server closes (no client is left waiting for nothing), and
/// the request still computing is counted as pending.
/// </summary>
public sealed class RecipeHostShutdownTests
{
    [Fact]
    public void Shutdown_AnswersQueuedFibonacciRequests_AndCountsTheRunningOne()
    {
        const int Queued = 5;
        using var host = new RecipeHost(new RecipeHostOptions
        {
            Servers = ["udp-fib"],
            Ports = new Dictionary<string, int> { ["udp-fib"] = 0 },
            Workers = 1,
            FibMax = 45,
        });
        var thread = new Thread(() => host.Run()) { IsBackground = true, Name = "recipe-host" };
        thread.Start();
        IPEndPoint fib = host.Listeners.Single().EndPoint;

        // fib(45) keeps the only worker busy for about ten seconds (at idle priority, only on spare CPU;
        // it is abandoned at the end); then five more wait in the queue.
        using Socket running = Loopback.UdpClient();
        running.SendTo("45"u8, fib);
        Eventually.True(() => host.Pool!.RunningCount == 1);
        Socket[] queued = [.. Enumerable.Range(0, Queued).Select(_ => Loopback.UdpClient())];
        try
        {
            foreach (Socket client in queued)
            {
                client.SendTo("30"u8, fib);
            }

            Eventually.True(() => host.Pool!.QueuedCount == Queued);
            Assert.True(host.RequestShutdown());

            var buffer = new byte[64];
            foreach (Socket client in queued)
            {
                int n = client.Receive(buffer);
                Assert.Equal("error: shutting down", Encoding.ASCII.GetString(buffer, 0, n));
            }

            Assert.True(thread.Join(TestTimeouts.Passing), "Run did not return after the shutdown");
            var server = (UdpFibonacciServer)Assert.Single(host.Servers["udp-fib"]);
            Assert.Equal(1, server.PendingRequests);
            Assert.Equal(Queued + 1, server.DatagramsReceived);
            Assert.Equal(Queued, server.RepliesSent);
        }
        finally
        {
            foreach (Socket client in queued)
            {
                client.Dispose();
            }
        }
    }
}
