using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventIO.Interop;

namespace EventIO.Net;

/// <summary>
/// A bound UDP socket that always wants to receive: the recipe's <c>UDPServer</c>. Subclasses implement
/// <see cref="OnDatagram"/> and answer with <see cref="SendTo"/>.
/// </summary>
/// <remarks>
/// <para><b>Receiving:</b> up to <see cref="UdpServerOptions.ReceiveBudget"/> datagrams per readiness
/// event, <see cref="UdpServerOptions.BatchSize"/> per <c>recvmmsg</c> (32), into slots the loop's UDP
/// servers share, with one reused <see cref="SocketAddress"/>: no allocation per datagram. A receive that
/// returns fewer than it asked for means the socket is drained: no call is spent to learn EAGAIN.</para>
/// <para><b>Sending:</b> inside <see cref="OnDatagram"/>, <see cref="SendTo"/> queues the reply and every
/// reply of the batch goes out in one <c>sendmmsg</c> once the batch is handled, each to its own sender:
/// one wake-up costs two system calls however many datagrams it carries. A reply the kernel refuses
/// (socket buffer full, an ICMP error for the peer) is dropped and counted in <see cref="RepliesDropped"/>;
/// it never blocks the loop. Outside a batch (a posted callback, a timer) <see cref="SendTo"/> sends at once.</para>
/// <para><b>Threading:</b> construct anywhere; add it to a loop; everything else on that loop's thread.</para>
/// </remarks>
public abstract partial class UdpServer : LoopHandler
{
    private const int SolSocket = 1;   // SOL_SOCKET
    private const int SoMemInfo = 55;  // SO_MEMINFO (Linux 4.6+)

    private static readonly ConditionalWeakTable<EventLoop, DatagramBatch> s_batches = new();

    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly SocketAddress _remote;
    private readonly int _budget;
    private readonly int _batchSize;
    private readonly SourceRateLimiter? _limiter;
    private DatagramBatch? _batch; // the loop's, shared by its UDP servers (one runs at a time)
    private bool _inBatch;

    /// <summary>Binds <paramref name="endPoint"/> (port 0 picks a free port). Add the server to a loop to start.</summary>
    /// <exception cref="SocketException">The address cannot be bound (for example, it is in use).</exception>
    protected UdpServer(IPEndPoint endPoint, UdpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new UdpServerOptions();
        options.Validate();
        _budget = options.ReceiveBudget;
        _batchSize = Math.Min(options.BatchSize, options.ReceiveBudget);
        if (options.RateLimit > 0)
        {
            _limiter = new SourceRateLimiter(options.RateLimit, options.RateLimitBurst > 0 ? options.RateLimitBurst : options.RateLimit, options.RateLimitSources);
        }

        _socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (options.ReusePort)
            {
                SocketOptions.EnableReusePort(_socket);
            }

            if (options.ReceiveBufferSize > 0)
            {
                _socket.ReceiveBufferSize = options.ReceiveBufferSize;
            }

            _socket.Bind(endPoint);
            _socket.Blocking = false;
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        _handle = _socket.SafeHandle;
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _remote = new SocketAddress(endPoint.AddressFamily, SocketAddress.GetMaximumAddressSize(endPoint.AddressFamily));
    }

    /// <summary>The address really bound.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Datagrams received. Loop thread (or after the loop has stopped).</summary>
    public long DatagramsReceived { get; private set; }

    /// <summary>Replies handed to the kernel. Loop thread (or after the loop has stopped).</summary>
    public long RepliesSent { get; private set; }

    /// <summary>Replies dropped because they could not be sent without blocking, or the kernel refused them. Loop thread (or after the loop has stopped).</summary>
    public long RepliesDropped { get; private set; }

    /// <summary>Receive errors other than "would block" (for example ICMP errors reported on the socket). Loop thread (or after the loop has stopped).</summary>
    public long ReceiveErrors { get; private set; }

    /// <summary>Datagrams longer than the loop's receive buffer, cut to fit and delivered so. Loop thread (or after the loop has stopped).</summary>
    public long TruncatedDatagrams { get; private set; }

    /// <summary>
    /// Datagrams dropped unanswered because their source was over <see cref="UdpServerOptions.RateLimit"/>
    /// (included in <see cref="DatagramsReceived"/>). Loop thread (or after the loop has stopped).
    /// </summary>
    public long RateLimitedDatagrams { get; private set; }

    /// <summary>Sources the rate limit remembers now (0 when it is off). Loop thread.</summary>
    internal int RateLimitedSources => _limiter?.Count ?? 0;

    /// <summary>Of <see cref="RepliesDropped"/>, those dropped because the socket's send buffer was full (EAGAIN).</summary>
    internal long RepliesDroppedWouldBlock { get; private set; }

    /// <summary>Of <see cref="RepliesDropped"/>, those dropped because the server was closed (by a callback of the batch, or before the send).</summary>
    internal long RepliesDroppedClosed { get; private set; }

    /// <summary>
    /// Datagrams the kernel dropped before this server could read them (its receive buffer was full), as
    /// <c>SO_MEMINFO</c> reports; null once closed or where the kernel does not say. One system call: for
    /// monitoring, any thread.
    /// </summary>
    internal long? KernelDrops()
    {
        Span<byte> meminfo = stackalloc byte[9 * sizeof(uint)]; // SK_MEMINFO_DROPS is the 9th
        try
        {
            int length = _socket.GetRawSocketOption(SolSocket, SoMemInfo, meminfo);
            return length >= meminfo.Length ? BitConverter.ToUInt32(meminfo[(8 * sizeof(uint))..]) : null;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public sealed override SafeHandle Handle => _handle;

    /// <inheritdoc/>
    public sealed override bool WantsToReceive => !IsClosed && !_ringReceives;

    /// <inheritdoc/>
    public sealed override bool WantsToSend => false;

    /// <inheritdoc/>
    public sealed override void HandleReceive()
    {
        if (_batchSize > 1)
        {
            ReceiveBatches();
        }
        else
        {
            ReceiveOneByOne();
        }
    }

    /// <inheritdoc/>
    public sealed override void HandleSend()
    {
    }

    /// <summary>
    /// Sends <paramref name="datagram"/> to <paramref name="remote"/> without blocking; inside
    /// <see cref="OnDatagram"/> it is queued and sent with the batch's other replies. Loop thread.
    /// </summary>
    /// <returns>False if it was dropped (counted in <see cref="RepliesDropped"/>); true if sent or queued.</returns>
    /// <exception cref="InvalidOperationException">Not on the loop thread, or not added to a loop yet.</exception>
    public bool SendTo(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Loop.ThrowIfNotOnLoopThread();
        if (IsClosed)
        {
            RepliesDropped++;
            RepliesDroppedClosed++;
            return false;
        }

        if (_slot >= 0 && _batchSize > 1 && OperatingSystem.IsLinux() && TrySendThroughRing(datagram, remote))
        {
            return true;
        }

        if (_inBatch)
        {
            if (_batch!.TryQueue(datagram, remote))
            {
                return true;
            }

            FlushReplies(); // full: send what is queued, then this one
            if (_batch.TryQueue(datagram, remote))
            {
                return true;
            }
        }

        if (SocketCalls.SendTo(_handle, datagram, remote, out SocketError error) < 0)
        {
            RepliesDropped++;
            RepliesDroppedWouldBlock += error == SocketError.WouldBlock ? 1 : 0;
            return false;
        }

        RepliesSent++;
        return true;
    }

    /// <summary>Returns a copy of <paramref name="address"/> that outlives the current callback.</summary>
    protected static SocketAddress CopyAddress(SocketAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>
    /// Called with each datagram. Both arguments are lent by the loop and reused for the next datagram:
    /// copy <paramref name="remote"/> with <see cref="CopyAddress"/> to answer later.
    /// </summary>
    protected abstract void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote);

    /// <inheritdoc/>
    protected sealed override void ReleaseHandle()
    {
        StopRing(); // io_uring: cancel what is in flight first
        _socket.Dispose();
    }

    // The one-datagram path: recvfrom into the loop's buffer, replies sent at once.
    private void ReceiveOneByOne()
    {
        Span<byte> buffer = Loop.ReceiveBuffer;
        long now = _limiter is null ? 0 : Stopwatch.GetTimestamp();
        for (int i = 0; i < _budget && !IsClosed; i++)
        {
            int n = SocketCalls.ReceiveFrom(_handle, buffer, _remote, out SocketError error);
            if (n < 0)
            {
                if (error == SocketError.WouldBlock)
                {
                    return;
                }

                ReceiveErrors++; // an ICMP error for an earlier reply, say: the next datagram may be fine
                continue;
            }

            DatagramsReceived++;
            if (_limiter is null || Allowed(now))
            {
                OnDatagram(buffer[..n], _remote);
            }
        }
    }

    // recvmmsg into the loop's batch, the replies of each batch in one sendmmsg. The descriptor is used
    // bare: only this loop thread can close the socket, and it is checked after every callback.
    private void ReceiveBatches()
    {
        DatagramBatch batch = _batch ??= s_batches.GetValue(Loop, static loop => new DatagramBatch(loop.ReceiveBuffer.Length));
        int fd = (int)_handle.DangerousGetHandle();
        for (int budget = _budget; budget > 0 && !IsClosed;)
        {
            int asked = Math.Min(_batchSize, budget);
            int n = batch.Receive(fd, asked);
            if (n < 0)
            {
                if (n == -Libc.EAGAIN)
                {
                    return;
                }

                ReceiveErrors++; // an ICMP error for an earlier reply, say: the next datagram may be fine
                budget--;
                continue;
            }

            DeliverBatch(batch, n);
            if (n < asked)
            {
                return; // drained: skip the call that would only say EAGAIN
            }

            budget -= n;
        }
    }

    private void DeliverBatch(DatagramBatch batch, int count)
    {
        _inBatch = true;
        long now = _limiter is null ? 0 : Stopwatch.GetTimestamp();
        try
        {
            for (int i = 0; i < count && !IsClosed; i++)
            {
                DatagramsReceived++;
                if (batch.IsTruncated(i))
                {
                    TruncatedDatagrams++;
                }

                batch.CopySender(i, _remote);
                if (_limiter is null || Allowed(now))
                {
                    OnDatagram(batch.Datagram(i), _remote);
                }
            }
        }
        finally
        {
            _inBatch = false;
            FlushReplies();
        }
    }

    // The rate limit's verdict on the datagram whose sender is in _remote; an over-limit one is counted.
    // A family other than IPv4/IPv6 is not limited.
    private bool Allowed(long now)
    {
        if (!SourceAddress.TryGetKey(_remote, out UInt128 key) || _limiter!.TryTake(key, now))
        {
            return true;
        }

        RateLimitedDatagrams++;
        return false;
    }

    private void FlushReplies()
    {
        DatagramBatch batch = _batch!;
        if (batch.Queued == 0)
        {
            return;
        }

        if (IsClosed)
        {
            int discarded = batch.Discard(); // closed by a callback: nothing goes out
            RepliesDropped += discarded;
            RepliesDroppedClosed += discarded;
            return;
        }

        RepliesSent += batch.Flush((int)_handle.DangerousGetHandle(), out int refused, out int wouldBlock);
        RepliesDropped += refused;
        RepliesDroppedWouldBlock += wouldBlock;
    }
}
