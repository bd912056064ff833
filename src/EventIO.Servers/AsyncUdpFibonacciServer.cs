using System.Buffers.Text;
using System.Net;
using System.Text;
using EventIO.Net;
using EventIO.Work;

namespace EventIO.Servers;

/// <summary>
/// The recipe's <c>UDPFibServer</c> written with <c>await</c>: a heavy request becomes
/// <c>long f = await pool.RunAsync(() =&gt; Fibonacci.Compute(n));</c> and the reply is sent from the code after
/// the await, which runs on the loop thread like the rest. Same protocol, limits and replies as
/// <see cref="UdpFibonacciServer"/> (<c>eventio serve --api async</c> runs this one).
/// </summary>
/// <remarks>
/// n ≤ <see cref="UdpFibonacciServer.InlineMaxN"/> is computed on the loop at once; bad requests, and requests
/// refused because the pool is full, are answered before anything is allocated.
/// </remarks>
public sealed class AsyncUdpFibonacciServer : UdpServer, IFibonacciCounters
{
    private static readonly byte[] s_busy = "error: busy"u8.ToArray();
    private static readonly byte[] s_failed = "error: computation failed"u8.ToArray();
    private static readonly byte[] s_shuttingDown = "error: shutting down"u8.ToArray();

    private readonly WorkerPool _pool;
    private readonly int _maxN;
    private readonly byte[][] _errorReplies;
    private readonly long[] _invalidByReason = new long[Enum.GetValues<FibonacciRequestError>().Length];
    private long _inline;
    private long _pooled;
    private long _shutdown;

    /// <summary>Binds <paramref name="endPoint"/>; add the server to a loop to start.</summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="pool">Where the computations run.</param>
    /// <param name="maxN">The largest n accepted (0..<see cref="Fibonacci.MaxComputable"/>).</param>
    /// <param name="options">Receive budget and socket options.</param>
    public AsyncUdpFibonacciServer(IPEndPoint endPoint, WorkerPool pool, int maxN = UdpFibonacciServer.DefaultMaxN, UdpServerOptions? options = null)
        : base(endPoint, options)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfNegative(maxN);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxN, Fibonacci.MaxComputable);
        _pool = pool;
        _maxN = maxN;
        _errorReplies = [.. Enum.GetValues<FibonacciRequestError>().Select(e => e == FibonacciRequestError.None ? [] : Encoding.ASCII.GetBytes("error: " + FibonacciRequest.Describe(e, maxN)))];
    }

    /// <inheritdoc/>
    public long BusyReplies { get; private set; }

    /// <inheritdoc/>
    public long InvalidRequests { get; private set; }

    /// <inheritdoc/>
    public int PendingRequests { get; private set; }

    LoopHandler IFibonacciCounters.Handler => this;

    long IFibonacciCounters.InlineRequests => Volatile.Read(ref _inline);

    long IFibonacciCounters.PooledRequests => Volatile.Read(ref _pooled);

    long IFibonacciCounters.ShutdownReplies => Volatile.Read(ref _shutdown);

    long IFibonacciCounters.InvalidRequestsFor(FibonacciRequestError reason) => Volatile.Read(ref _invalidByReason[(int)reason]);

    /// <inheritdoc/>
    protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        if (!FibonacciRequest.TryParseReason(datagram, _maxN, out int n, out FibonacciRequestError error))
        {
            InvalidRequests++;
            _invalidByReason[(int)error]++;
            SendTo(_errorReplies[(int)error], remote);
        }
        else if (n <= UdpFibonacciServer.InlineMaxN)
        {
            _inline++;
            SendResult(Fibonacci.Compute(n), remote);
        }
        else if (_pool.IsShutDown)
        {
            _shutdown++;
            SendTo(s_shuttingDown, remote);
        }
        else if (_pool.IsFull)
        {
            BusyReplies++; // refused before anything is allocated
            SendTo(s_busy, remote);
        }
        else
        {
            _pooled++;
            _ = AnswerAsync(n, CopyAddress(remote)); // never throws: every outcome is a reply
        }
    }

    private async Task AnswerAsync(int n, SocketAddress remote)
    {
        PendingRequests++;
        try
        {
            long value = await _pool.RunAsync(() => Fibonacci.Compute(n)); // on a worker; resumes on the loop
            SendResult(value, remote);
        }
        catch (WorkerPoolFullException)
        {
            _pooled--; // never reached the pool
            BusyReplies++; // another loop filled the queue since IsFull said no
            SendTo(s_busy, remote);
        }
        catch (OperationCanceledException)
        {
            _shutdown++;
            SendTo(s_shuttingDown, remote); // the pool shut down before a worker took it
        }
        catch (Exception)
        {
            SendTo(s_failed, remote);
        }
        finally
        {
            PendingRequests--;
        }
    }

    private void SendResult(long value, SocketAddress remote)
    {
        Span<byte> reply = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, reply, out int written);
        SendTo(reply[..written], remote);
    }
}
