using System.Net;
using System.Net.Sockets;

namespace EventIO.Servers;

/// <summary>A server of a <see cref="RecipeHost"/> could not bind its address.</summary>
public sealed class ListenException : Exception
{
    /// <summary>Creates the exception for server <paramref name="name"/> at <paramref name="endPoint"/>.</summary>
    public ListenException(string name, IPEndPoint endPoint, SocketException inner)
        : base($"cannot listen on {name} {endPoint}: {Describe(inner)}", inner)
    {
        Name = name;
        EndPoint = endPoint;
    }

    /// <summary>Creates an exception with a message only.</summary>
    public ListenException()
    {
        Name = string.Empty;
        EndPoint = new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>Creates an exception with a message only.</summary>
    public ListenException(string message)
        : base(message)
    {
        Name = string.Empty;
        EndPoint = new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public ListenException(string message, Exception innerException)
        : base(message, innerException)
    {
        Name = string.Empty;
        EndPoint = new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>The server that failed (<c>tcp-echo</c>, …).</summary>
    public string Name { get; }

    /// <summary>The address it tried to bind.</summary>
    public IPEndPoint EndPoint { get; }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use",
        SocketError.AddressNotAvailable => "address not available on this machine",
        SocketError.AccessDenied => "permission denied",
        _ => ex.Message,
    };
}
