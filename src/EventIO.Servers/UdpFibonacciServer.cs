using System.Buffers.Text;
using System.Net;
using System.Runtime.Versioning;
using System.Text;
using EventIO.Net;
using EventIO.Work;

namespace EventIO.Servers;

/// <summary>
/// The recipe's <c>UDPFibServer</c>: parses <c>n</c>, computes the naive Fibonacci on a
/// <see cref="WorkerPool"/> so the loop keeps serving, and replies with the decimal result from the loop
/// thread. Every bad request gets a reply starting with <c>error: </c> and the reason; a full pool gets
/// <c>error: busy</c>. Nothing a client sends can stop the server.
/// </summary>
/// <remarks>
/// n ≤ <see cref="InlineMaxN"/> is computed on the loop at once (tens of microseconds) instead of queueing
/// behind heavy requests: <c>fib 1</c> is answered at once even while the pool is saturated.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class UdpFibonacciServer : UdpServer, IFibonacciCounters
{
    /// <summary>The default largest n (45: about ten seconds of naive recursion).</summary>
    public const int DefaultMaxN = 45;

    /// <summary>The largest n computed inline on the loop (20: about 22,000 calls, tens of microseconds).</summary>
    public const int InlineMaxN = 20;

    private static readonly Func<Request, long> s_compute = static r => Fibonacci.Compute(r.N);
    private static readonly Action<Request, WorkResult<long>> s_respond = static (r, result) => r.Server.Respond(r, result);
    private static readonly byte[] s_busy = "error: busy"u8.ToArray();
    private static readonly byte[] s_failed = "error: computation failed"u8.ToArray();
    private static readonly byte[] s_shuttingDown = "error: shutting down"u8.ToArray();

    private readonly WorkerPool _pool;
    private readonly int _maxN;
    private readonly byte[][] _errorReplies;
    private readonly long[] _invalidByReason = new long[Enum.GetValues<FibonacciRequestError>().Length];

    /// <summary>Binds <paramref name="endPoint"/>; add the server to a loop to start.</summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="pool">Where the computations run.</param>
    /// <param name="maxN">The largest n accepted (0..<see cref="Fibonacci.MaxComputable"/>).</param>
    /// <param name="options">Receive budget and socket options.</param>
    public UdpFibonacciServer(IPEndPoint endPoint, WorkerPool pool, int maxN = DefaultMaxN, UdpServerOptions? options = null)
        : base(endPoint, options)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfNegative(maxN);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxN, Fibonacci.MaxComputable);
        _pool = pool;
        _maxN = maxN;
        _errorReplies = [.. Enum.GetValues<FibonacciRequestError>().Select(e => e == FibonacciRequestError.None ? [] : Encoding.ASCII.GetBytes("error: " + FibonacciRequest.Describe(e, maxN)))];
    }

    /// <summary>Requests refused with <c>error: busy</c> because the pool's queue was full. Loop thread (or after the loop has stopped).</summary>
    public long BusyReplies { get; private set; }

    /// <summary>Requests refused because they were not a valid n. Loop thread (or after the loop has stopped).</summary>
    public long InvalidRequests { get; private set; }

    /// <summary>
    /// Requests handed to the pool that have not been answered yet: queued, running, or finished with the
    /// result not yet delivered to the loop. Loop thread (or after the loop has stopped).
    /// </summary>
    public int PendingRequests { get; private set; }

    /// <summary>Requests computed on the loop at once (n ≤ <see cref="InlineMaxN"/>). Loop thread (or any, for monitoring).</summary>
    internal long InlineRequests { get; private set; }

    /// <summary>Requests handed to the pool. Loop thread (or any, for monitoring).</summary>
    internal long PooledRequests { get; private set; }

    /// <summary>Requests answered <c>error: shutting down</c>. Loop thread (or any, for monitoring).</summary>
    internal long ShutdownReplies { get; private set; }

    /// <summary>Of <see cref="InvalidRequests"/>, those refused for <paramref name="reason"/>. Any thread, for monitoring.</summary>
    internal long InvalidRequestsFor(FibonacciRequestError reason) => Volatile.Read(ref _invalidByReason[(int)reason]);

    LoopHandler IFibonacciCounters.Handler => this;

    long IFibonacciCounters.InlineRequests => InlineRequests;

    long IFibonacciCounters.PooledRequests => PooledRequests;

    long IFibonacciCounters.ShutdownReplies => ShutdownReplies;

    long IFibonacciCounters.InvalidRequestsFor(FibonacciRequestError reason) => InvalidRequestsFor(reason);

    /// <inheritdoc/>
    protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        if (!FibonacciRequest.TryParseReason(datagram, _maxN, out int n, out FibonacciRequestError error))
        {
            InvalidRequests++;
            _invalidByReason[(int)error]++;
            SendTo(_errorReplies[(int)error], remote);
            return;
        }

        if (n <= InlineMaxN)
        {
            InlineRequests++;
            SendResult(Fibonacci.Compute(n), remote);
            return;
        }

        // A full queue is refused before the request is built, so a flood of heavy requests allocates
        // nothing; TryRun still has the last word when the queue has room.
        if (_pool.IsFull || !_pool.TryRun(new Request(this, n, CopyAddress(remote)), s_compute, s_respond))
        {
            if (_pool.IsShutDown)
            {
                ShutdownReplies++;
                SendTo(s_shuttingDown, remote);
                return;
            }

            BusyReplies++;
            SendTo(s_busy, remote);
            return;
        }

        PendingRequests++;
        PooledRequests++;
    }

    private void Respond(Request request, WorkResult<long> result)
    {
        PendingRequests--;
        if (!result.IsSuccess)
        {
            // Cancelled: the pool shut down before a worker took it.
            ShutdownReplies += result.Exception is OperationCanceledException ? 1 : 0;
            SendTo(result.Exception is OperationCanceledException ? s_shuttingDown : s_failed, request.Remote);
            return;
        }

        SendResult(result.Value, request.Remote);
    }

    private void SendResult(long value, SocketAddress remote)
    {
        Span<byte> reply = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, reply, out int written);
        SendTo(reply[..written], remote);
    }

    private sealed record Request(UdpFibonacciServer Server, int N, SocketAddress Remote);
}
