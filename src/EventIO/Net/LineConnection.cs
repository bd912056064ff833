using System.Buffers;
using System.Net.Sockets;

namespace EventIO.Net;

/// <summary>
/// A TCP connection that speaks in lines: implement <see cref="OnLine"/>, answer with <see cref="SendLine"/>.
/// Lines end with <c>\n</c> (a <c>\r</c> before it is dropped) and are at most the maximum length; a longer
/// one goes to <see cref="OnLineTooLong"/>. Framing by <see cref="LineFramer"/>: no copy for a line that
/// arrives whole, no buffer held by an idle connection.
/// </summary>
/// <remarks><b>Threading:</b> loop thread only, like every handler.</remarks>
public abstract class LineConnection : TcpConnection, ILineReceiver
{
    private readonly LineFramer _framer;

    /// <summary>Wraps a connected socket's handle (as <see cref="TcpServer"/> hands it over); lines are at most <paramref name="maxLineLength"/> bytes (8 KiB).</summary>
    protected LineConnection(SafeSocketHandle socket, int maxLineLength = 8 * 1024, TcpConnectionOptions? options = null)
        : base(socket, options)
    {
        _framer = new LineFramer(maxLineLength);
    }

    /// <summary>Wraps a connected <paramref name="socket"/>; lines are at most <paramref name="maxLineLength"/> bytes (8 KiB).</summary>
    protected LineConnection(Socket socket, int maxLineLength = 8 * 1024, TcpConnectionOptions? options = null)
        : base(socket, options)
    {
        _framer = new LineFramer(maxLineLength);
    }

    /// <summary>The longest line accepted, without its terminator.</summary>
    public int MaxLineLength => _framer.MaxLineLength;

    /// <summary>Sends <paramref name="line"/> followed by <c>\n</c>, in one write. See <see cref="TcpConnection.Send"/>.</summary>
    /// <returns>False if nothing was sent (closed, closing, or refused by the send cap).</returns>
    public bool SendLine(ReadOnlySpan<byte> line)
    {
        byte[] framed = ArrayPool<byte>.Shared.Rent(line.Length + 1);
        try
        {
            line.CopyTo(framed);
            framed[line.Length] = (byte)'\n';
            return Send(framed.AsSpan(0, line.Length + 1));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(framed);
        }
    }

    // The rest of a read is still handed over while the connection is paused (those bytes were read already);
    // once it closes or starts closing, input is no longer processed.
    bool ILineReceiver.OnLine(ReadOnlySpan<byte> line)
    {
        OnLine(line);
        return !IsClosed && !IsClosing;
    }

    bool ILineReceiver.OnLineTooLong()
    {
        OnLineTooLong();
        return !IsClosed && !IsClosing;
    }

    /// <summary>One whole line, without its terminator. The bytes are lent: use or copy them before returning.</summary>
    protected abstract void OnLine(ReadOnlySpan<byte> line);

    /// <summary>
    /// A line longer than <see cref="MaxLineLength"/> arrived; it is dropped and framing resumes after it.
    /// The default closes the connection gracefully (what was queued still goes out); override to answer
    /// with an error and carry on.
    /// </summary>
    protected virtual void OnLineTooLong() => CloseWhenFlushed();

    /// <inheritdoc/>
    protected sealed override void OnReceived(ReadOnlySpan<byte> data) => _framer.Feed(data, this);

    private protected sealed override void ReleaseBuffers() => _framer.Dispose();
}
