using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using EventIO.Async;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Async;

/// <summary><see cref="AsyncTcpConnection.AsPipe"/>: System.IO.Pipelines over a connection, the loop as the pipes' scheduler.</summary>
public sealed class ConnectionPipeTests
{
    [Fact]
    public void ALineProtocol_WrittenTheKestrelWay_AnswersEveryLine_OnTheLoopThread()
    {
        using var loopThread = new LoopThread();
        int offLoop = 0;
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            IDuplexPipe pipe = connection.AsPipe();
            while (true)
            {
                ReadResult result = await pipe.Input.ReadAsync();
                offLoop += connection.Loop.IsOnLoopThread ? 0 : 1;
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
                {
                    pipe.Output.Write("> "u8);
                    foreach (ReadOnlyMemory<byte> segment in line)
                    {
                        pipe.Output.Write(segment.Span);
                    }

                    pipe.Output.Write("\n"u8);
                }

                pipe.Input.AdvanceTo(buffer.Start, buffer.End);
                await pipe.Output.FlushAsync();
                offLoop += connection.Loop.IsOnLoopThread ? 0 : 1;
                if (result.IsCompleted)
                {
                    return; // the peer ended its side; returning completes the output and closes
                }
            }
        }));

        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        client.Send("one\ntw"u8);
        Assert.Equal("> one\n", Encoding.ASCII.GetString(Loopback.ReceiveExactly(client, 6)));
        client.Send("o\nthree\n"u8);
        Assert.Equal("> two\n> three\n", Encoding.ASCII.GetString(Loopback.ReceiveExactly(client, 14)));
        client.Shutdown(SocketShutdown.Send);
        ServerTestSupport.AssertEndOfStream(client);
        Eventually.True(() => server.ConnectionCount == 0);
        Assert.Equal(0, offLoop);
    }

    [Fact]
    public void ABulkEcho_ThroughThePipes_ArrivesByteForByte_WithBackPressureBothWays()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            IDuplexPipe pipe = connection.AsPipe();
            await pipe.Input.CopyToAsync(pipe.Output);
        }, receiveBufferLimit: 16 * 1024));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        byte[] data = ServerTestSupport.RandomBytes(8 * 1024 * 1024, 11);
        var writer = new Thread(() =>
        {
            client.Send(data);
            client.Shutdown(SocketShutdown.Send);
        });
        writer.Start();

        ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));
        ServerTestSupport.AssertEndOfStream(client);
        Assert.True(writer.Join(TestTimeouts.Passing));
    }

    [Fact]
    public async Task AReset_FailsTheApplicationsRead_WithTheSocketError()
    {
        using var loopThread = new LoopThread();
        var failure = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            IDuplexPipe pipe = connection.AsPipe();
            try
            {
                while (true)
                {
                    ReadResult result = await pipe.Input.ReadAsync();
                    pipe.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        failure.SetResult(null);
                        return;
                    }
                }
            }
            catch (Exception ex)
            {
                failure.SetResult(ex);
            }
        }));

        using (Socket client = Loopback.TcpConnect(server.LocalEndPoint))
        {
            client.Send("x"u8);
            Eventually.True(() => server.ConnectionCount == 1);
            Hostile.HostileSupport.Reset(client);
        }

        var error = Assert.IsType<SocketException>(await failure.Task.DefaultTimeout());
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        Eventually.True(() => server.ConnectionCount == 0);
    }

    [Fact]
    public async Task AnApplicationThatDoesNotRead_StopsTheConnectionReadingItsPeer()
    {
        using var loopThread = new LoopThread();
        var opened = new TaskCompletionSource<AsyncTcpConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            IDuplexPipe pipe = connection.AsPipe();
            opened.SetResult(connection);
            await release.Task;
        }, receiveBufferLimit: 32 * 1024));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        AsyncTcpConnection connection = await opened.Task.DefaultTimeout();
        client.Blocking = false;
        byte[] chunk = new byte[64 * 1024];

        Eventually.True(() =>
        {
            client.Send(chunk, 0, chunk.Length, SocketFlags.None, out _);
            return !loopThread.Invoke(() => connection.WantsToReceive);
        }, because: "the connection should stop reading once 32 KiB wait in the input pipe");

        release.SetResult();
        Eventually.True(() => server.ConnectionCount == 0);
    }

    [Fact]
    public async Task ThePipesEnds_RefuseOtherThreads_AndTheConnectionsOwnCallsAreRefusedOnceItIsAPipe()
    {
        using var loopThread = new LoopThread();
        var pipeReady = new TaskCompletionSource<(AsyncTcpConnection, IDuplexPipe)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            pipeReady.SetResult((connection, connection.AsPipe()));
            await release.Task;
        }));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        (AsyncTcpConnection connection, IDuplexPipe pipe) = await pipeReady.Task.DefaultTimeout();

        Assert.Throws<InvalidOperationException>(() => pipe.Output.GetSpan());
        Assert.Throws<InvalidOperationException>(() => pipe.Input.TryRead(out _));
        Assert.Throws<InvalidOperationException>(() => pipe.Output.Advance(0));
        Assert.IsType<InvalidOperationException>(Record.Exception(() => loopThread.Invoke(() => IsDone(connection.ReceiveAsync(new byte[1])))));
        Assert.Same(pipe, loopThread.Invoke(connection.AsPipe));

        release.SetResult();
        ServerTestSupport.AssertEndOfStream(client);
    }

    private static bool IsDone(ValueTask<int> task) => task.IsCompleted;

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        SequencePosition? end = buffer.PositionOf((byte)'\n');
        if (end is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, end.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
        return true;
    }
}
