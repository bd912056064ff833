using System.Net.Sockets;

namespace EventIO.Net;

/// <summary>Socket options .NET has no named setting for.</summary>
internal static class SocketOptions
{
    private const int SolSocket = 1;   // SOL_SOCKET on Linux
    private const int SoReusePort = 15; // SO_REUSEPORT on Linux

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
