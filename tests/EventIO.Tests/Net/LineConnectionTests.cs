using System.Net.Sockets;
using System.Text;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Net;

/// <summary>A line-based server on <see cref="LineConnection"/>: lines in, lines out, the too-long hook.</summary>
public sealed class LineConnectionTests
{
    [Fact]
    public void Lines_AreAnsweredInOrder_ACrLfClientIsUnderstood_AndTooLongLinesGetTheHook()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.Start(loopThread, _ => new TcpServer(Loopback.AnyPort, s => new UpperCaseLines(s)));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        client.Send("hello\r\nsplit "u8);
        client.Send("line\n"u8);
        client.Send(Encoding.ASCII.GetBytes(new string('x', 100) + "\nafter\n"));

        Assert.Equal("HELLO\nSPLIT LINE\nerror: line too long\nAFTER\n", Encoding.ASCII.GetString(Loopback.ReceiveExactly(client, 44)));
    }

    [Fact]
    public void ByDefault_ATooLongLine_ClosesTheConnectionGracefully()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.Start(loopThread, _ => new TcpServer(Loopback.AnyPort, s => new EchoLines(s)));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        client.Send(Encoding.ASCII.GetBytes("fine\n" + new string('y', 64) + "\n"));

        Assert.Equal("fine\n"u8.ToArray(), Loopback.ReceiveExactly(client, 5));
        ServerTestSupport.AssertEndOfStream(client);
    }

    private sealed class UpperCaseLines(SafeSocketHandle socket) : LineConnection(socket, maxLineLength: 32)
    {
        protected override void OnLine(ReadOnlySpan<byte> line) => SendLine(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(line).ToUpperInvariant()));

        protected override void OnLineTooLong() => SendLine("error: line too long"u8);
    }

    private sealed class EchoLines(SafeSocketHandle socket) : LineConnection(socket, maxLineLength: 32)
    {
        protected override void OnLine(ReadOnlySpan<byte> line) => SendLine(line);
    }
}
