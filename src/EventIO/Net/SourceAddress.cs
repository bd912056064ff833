using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EventIO.Net;

/// <summary>
/// A peer's IP address as one 128-bit key, port left out: IPv4 as its IPv4-mapped IPv6 form
/// (<c>::ffff:a.b.c.d</c>), so that a client seen over IPv4 and over a dual-stack socket counts once.
/// Read straight from the native <c>sockaddr</c> bytes: no allocation.
/// </summary>
internal static class SourceAddress
{
    private const ulong MappedPrefix = 0x0000_FFFF_0000_0000UL;

    /// <summary>The key of <paramref name="address"/>; false for a family other than IPv4 or IPv6.</summary>
    internal static bool TryGetKey(SocketAddress address, out UInt128 key)
    {
        ReadOnlySpan<byte> bytes = address.Buffer.Span[..address.Size];
        return TryGetKey(bytes, out key);
    }

    /// <summary>The key of a native <c>sockaddr_in</c> or <c>sockaddr_in6</c> (Linux layout).</summary>
    internal static bool TryGetKey(ReadOnlySpan<byte> sockaddr, out UInt128 key)
    {
        key = default;
        if (sockaddr.Length < 2)
        {
            return false;
        }

        int family = BitConverter.ToUInt16(sockaddr); // sa_family_t: host byte order
        if (family == 2 && sockaddr.Length >= 8) // AF_INET: family, port, then 4 address bytes
        {
            key = new UInt128(0, MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(sockaddr[4..]));
            return true;
        }

        if (family == 10 && sockaddr.Length >= 24) // AF_INET6: family, port, flow info, then 16 address bytes
        {
            key = new UInt128(BinaryPrimitives.ReadUInt64BigEndian(sockaddr[8..]), BinaryPrimitives.ReadUInt64BigEndian(sockaddr[16..]));
            return true;
        }

        return false;
    }

    /// <summary>The key of <paramref name="address"/> (for tests and logs).</summary>
    internal static UInt128 KeyOf(IPAddress address)
    {
        byte[] bytes = (address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address).GetAddressBytes();
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8)));
    }
}
