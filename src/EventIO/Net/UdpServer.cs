using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Net;

/// <summary>
/// A bound UDP socket that always wants to receive: the recipe's <c>UDPServer</c>. Subclasses implement
/// <see cref="OnDatagram"/> and answer with <see cref="SendTo"/>.
/// </summary>
/// <remarks>
/// <para><b>Receiving:</b> up to <see cref="UdpServerOptions.ReceiveBudget"/> datagrams per readiness
/// event, into the loop's shared buffer, with one reused <see cref="SocketAddress"/>: no allocation per
/// datagram.</para>
/// <para><b>Sending:</b> a reply that cannot be sent at once (socket buffer full, or an ICMP error for the
/// peer) is dropped and counted in <see cref="RepliesDropped"/>; it never blocks the loop.</para>
/// <para><b>Threading:</b> construct anywhere; add it to a loop; everything else on that loop's thread.</para>
/// </remarks>
public abstract class UdpServer : LoopHandler
{
    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly SocketAddress _remote;
    private readonly int _budget;

    /// <summary>Binds <paramref name="endPoint"/> (port 0 picks a free port). Add the server to a loop to start.</summary>
    /// <exception cref="SocketException">The address cannot be bound (for example, it is in use).</exception>
    protected UdpServer(IPEndPoint endPoint, UdpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new UdpServerOptions();
        options.Validate();
        _budget = options.ReceiveBudget;
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

    /// <inheritdoc/>
    public sealed override SafeHandle Handle => _handle;

    /// <inheritdoc/>
    public sealed override bool WantsToReceive => !IsClosed;

    /// <inheritdoc/>
    public sealed override bool WantsToSend => false;

    /// <inheritdoc/>
    public sealed override void HandleReceive()
    {
        Span<byte> buffer = Loop.ReceiveBuffer;
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
            OnDatagram(buffer[..n], _remote);
        }
    }

    /// <inheritdoc/>
    public sealed override void HandleSend()
    {
    }

    /// <summary>Sends <paramref name="datagram"/> to <paramref name="remote"/> without blocking. Loop thread.</summary>
    /// <returns>False if it was dropped (counted in <see cref="RepliesDropped"/>).</returns>
    /// <exception cref="InvalidOperationException">Not on the loop thread, or not added to a loop yet.</exception>
    public bool SendTo(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Loop.ThrowIfNotOnLoopThread();
        if (IsClosed || SocketCalls.SendTo(_handle, datagram, remote, out _) < 0)
        {
            RepliesDropped++;
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
    protected sealed override void ReleaseHandle() => _socket.Dispose();
}
