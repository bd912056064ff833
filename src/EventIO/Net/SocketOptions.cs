using System.Net.Sockets;

namespace EventIO.Net;

/// <summary>Socket options .NET has no named setting for.</summary>
internal static class SocketOptions
{
    private const int SolSocket = 1;   // SOL_SOCKET on Linux
    private const int SoReuseAddr = 2;  // SO_REUSEADDR on Linux
    private const int SoReusePort = 15; // SO_REUSEPORT on Linux

    /// <summary>
    /// Sets SO_REUSEADDR alone, so a restarted server can bind while old connections sit in TIME_WAIT.
    /// (.NET's <c>SocketOptionName.ReuseAddress</c> sets SO_REUSEPORT too on Linux, which would let a second
    /// server bind a port that is already listening instead of failing with "address in use".)
    /// </summary>
    internal static void EnableReuseAddress(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(SolSocket, SoReuseAddr, [1, 0, 0, 0]);
        }
        else
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }
    }

    /// <summary>Sets SO_REUSEPORT so that several sockets (one per loop) can bind the same port.</summary>
    internal static void EnableReusePort(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("SO_REUSEPORT is set only on Linux.");
        }

        socket.SetRawSocketOption(SolSocket, SoReusePort, [1, 0, 0, 0]);
    }
}
