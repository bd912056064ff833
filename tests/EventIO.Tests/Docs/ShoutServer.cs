using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Tests.Docs;

// The README's "write a handler from scratch" example, compiled and tested here so it stays true.
// A UDP socket that answers every datagram in upper case.
internal sealed class ShoutServer(Socket socket) : IEventHandler
{
    private readonly byte[] _buffer = new byte[2048];
    private EndPoint _peer = new IPEndPoint(IPAddress.Any, 0);

    public SafeHandle Handle => socket.SafeHandle;  // what the loop polls
    public bool WantsToReceive => true;             // always listening
    public bool WantsToSend => false;               // replies go out at once

    public void HandleReceive()
    {
        while (socket.Available > 0)                // read what is there; never block
        {
            int n = socket.ReceiveFrom(_buffer, ref _peer);
            for (int i = 0; i < n; i++)
            {
                _buffer[i] = (byte)char.ToUpperInvariant((char)_buffer[i]);
            }

            socket.SendTo(_buffer.AsSpan(0, n), _peer);
        }
    }

    public void HandleSend()
    {
    }
}
