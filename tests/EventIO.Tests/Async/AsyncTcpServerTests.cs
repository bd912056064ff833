using System.Net.Sockets;
using EventIO.Async;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using EventIO.Tests.Servers;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Async;

/// <summary>A <see cref="TcpServer"/> whose connections are <see cref="AsyncTcpConnection"/>s, each run by a task (<see cref="AsyncTcpConnection.Factory"/>).</summary>
public sealed class AsyncTcpServerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EveryContinuationOfAConnectionsTask_RunsOnItsLoopThread(int loops)
    {
        using var loopThread = new LoopThread(loops: loops);
        int offLoop = 0, resumes = 0;
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            byte[] buffer = new byte[256];
            int n;
            while ((n = await connection.ReceiveAsync(buffer)) > 0)
            {
                Count(connection);
                await connection.SendAsync(buffer.AsMemory(0, n));
                Count(connection);
            }
        }));
        void Count(AsyncTcpConnection c)
        {
            Interlocked.Increment(ref resumes);
            if (!c.Loop.IsOnLoopThread || !(Thread.CurrentThread.Name ?? "").StartsWith("loop-", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref offLoop);
            }
        }

        Socket[] clients = [.. Enumerable.Range(0, 4).Select(_ => Loopback.TcpConnect(server.LocalEndPoint))];
        for (int round = 0; round < 20; round++)
        {
            foreach (Socket client in clients)
            {
                byte[] message = ServerTestSupport.RandomBytes(100, round);
                client.Send(message);
                Assert.Equal(message, Loopback.ReceiveExactly(client, message.Length));
            }
        }

        foreach (Socket client in clients)
        {
            client.Shutdown(SocketShutdown.Send);
            ServerTestSupport.AssertEndOfStream(client); // the task returned: the connection closed gracefully
            client.Dispose();
        }

        Eventually.True(() => server.ConnectionCount == 0);
        Assert.True(resumes >= 160);
        Assert.Equal(0, offLoop);
    }

    [Fact]
    public void WhenTheTaskEnds_WhatItSentIsFlushed_ThenTheConnectionCloses()
    {
        using var loopThread = new LoopThread();
        byte[] greeting = ServerTestSupport.RandomBytes(3 * 1024 * 1024, 3); // more than the socket takes at once
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection => await connection.SendAsync(greeting)));

        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        ServerTestSupport.AssertSameBytes(greeting, Loopback.ReceiveExactly(client, greeting.Length));
        ServerTestSupport.AssertEndOfStream(client);
        Eventually.True(() => server.ConnectionCount == 0);
    }

    [Fact]
    public void ATaskThatFails_IsLogged_AndItsConnectionClosed_TheServerCarriesOn()
    {
        var logger = new CollectingLogger();
        using var loopThread = new LoopThread(new EventLoopOptions { Logger = logger });
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            byte[] buffer = new byte[16];
            int n = await connection.ReceiveAsync(buffer);
            if (buffer[0] == (byte)'!')
            {
                throw new FormatException("the protocol was broken");
            }

            await connection.SendAsync(buffer.AsMemory(0, n));
        }));

        using (Socket bad = Loopback.TcpConnect(server.LocalEndPoint))
        {
            bad.Send("!"u8);
            Assert.Equal(0, bad.Receive(new byte[1])); // closed
        }

        Eventually.True(() => logger.Entries.Any(e => e.Level == LogLevel.Error && e.EventId == 1200 && e.Exception is FormatException));
        using Socket good = Loopback.TcpConnect(server.LocalEndPoint);
        good.Send("ok"u8);
        Assert.Equal("ok"u8.ToArray(), Loopback.ReceiveExactly(good, 2));
        Eventually.True(() => server.ConnectionCount == 0);
    }

    [Fact]
    public async Task AReset_EndsTheTaskWithTheSocketError_LoggedOnlyAsDebug()
    {
        var logger = new CollectingLogger();
        using var loopThread = new LoopThread(new EventLoopOptions { Logger = logger });
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, AsyncTcpConnection.Factory(async connection =>
        {
            try
            {
                await connection.ReceiveAsync(new byte[16]);
                ended.SetResult(null);
            }
            catch (Exception ex)
            {
                ended.SetResult(ex);
                throw;
            }
        }));

        using (Socket client = Loopback.TcpConnect(server.LocalEndPoint))
        {
            Eventually.True(() => server.ConnectionCount == 1);
            Hostile.HostileSupport.Reset(client);
        }

        var error = Assert.IsType<SocketException>(await ended.Task.DefaultTimeout());
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        Eventually.True(() => server.ConnectionCount == 0);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }
}
