using System.Net;
using System.Runtime.Versioning;
using EventIO.Net;

namespace EventIO.Servers;

/// <summary>
/// The recipe's <c>UDPTimeServer</c>: answers every datagram with the local time in <c>ctime</c> form,
/// <c>Tue Sep 18 14:29:23 2012</c> (24 ASCII bytes). Allocates nothing per datagram.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class UdpTimeServer : UdpServer
{
    /// <summary>Binds <paramref name="endPoint"/>; add the server to a loop to start.</summary>
    public UdpTimeServer(IPEndPoint endPoint, UdpServerOptions? options = null)
        : base(endPoint, options)
    {
    }

    /// <summary>Where the time comes from; replaceable for tests. Default: <see cref="DateTime.Now"/>.</summary>
    public Func<DateTime> Clock { get; init; } = static () => DateTime.Now;

    /// <inheritdoc/>
    protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        Span<byte> reply = stackalloc byte[CTimeFormat.Length];
        int length = CTimeFormat.Format(Clock(), reply);
        SendTo(reply[..length], remote);
    }
}
