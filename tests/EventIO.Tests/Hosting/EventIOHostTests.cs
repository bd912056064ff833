using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EventIO.Diagnostics;
using EventIO.Hosting;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventIO.Tests.Hosting;

/// <summary>EventIO in the Generic Host: start, serve, fail to start, configuration, graceful stop.</summary>
public sealed class EventIOHostTests
{
    [Fact]
    public async Task Start_BindsEveryServer_ConnectionsComeFromDI_AndTheMetricsAreTheHosts()
    {
        using IHost host = HostingTestSupport.Build(
            eventio => eventio
                .AddTcpServer<GreetingConnection>("greet", o => o.Port = 0)
                .AddUdpServer<UdpEchoServer>("echo", o => o.Port = 0),
            services: s => s.AddSingleton(new Greeting("hello from DI")));
        await host.StartAsync().DefaultTimeout();

        using (Socket tcp = Loopback.TcpConnect(host.Listener("greet").EndPoint))
        {
            Assert.Equal("hello from DI\n", Encoding.ASCII.GetString(Loopback.ReceiveExactly(tcp, 14)));
        }

        using (Socket udp = Loopback.UdpClient())
        {
            Assert.Equal("ping", Loopback.UdpRequest(udp, host.Listener("echo").EndPoint, "ping"u8));
        }

        EventIOHostedService service = host.Services.GetRequiredService<EventIOHostedService>();
        Assert.Equal(1, service.Loops!.Count);
        Assert.Equal("tcp", host.Listener("greet").Protocol);
        EventIOMetrics metrics = host.Services.GetRequiredService<EventIOMetrics>();
        using var accepted = new MetricCollector<long>(metrics.Meter, "eventio.tcp.accepted_connections");
        accepted.RecordObservableInstruments();
        Assert.Equal(1, accepted.LastMeasurement!.Value);
        Assert.Equal("greet", accepted.LastMeasurement.Tags[EventIOMetrics.ServerTag]);
        Assert.Equal("loop-0", accepted.LastMeasurement.Tags[EventIOMetrics.LoopTag]);

        await host.StopAsync().DefaultTimeout();
    }

    [Fact]
    public async Task ABindThatFails_FailsTheHostsStart_NamingTheServerAndAddress_AndLeavesNothingRunning()
    {
        using var occupied = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupied.Bind(Loopback.AnyPort);
        occupied.Listen();
        int port = ((IPEndPoint)occupied.LocalEndPoint!).Port;
        using IHost host = HostingTestSupport.Build(eventio => eventio
            .AddUdpServer<UdpEchoServer>("first", o => o.Port = 0)
            .AddTcpServer<TcpEchoConnection>("taken", o => o.Port = port));

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().DefaultTimeout());
        Assert.Equal($"EventIO: cannot listen on taken tcp 127.0.0.1:{port}: address already in use", error.Message);
        EventIOHostedService service = host.Services.GetRequiredService<EventIOHostedService>();
        Assert.Null(service.Loops);
        Assert.Empty(service.Listeners);
    }

    [Theory]
    [InlineData("EventIO:Servers:echo:Address", "not-an-address", "EventIO:Servers:echo:Address must be an IP address")]
    [InlineData("EventIO:Servers:echo:Address", "7000", "EventIO:Servers:echo:Address must be an IP address")]
    [InlineData("EventIO:Servers:echo:Port", "70000", "EventIO:Servers:echo:Port must be from 0 to 65535")]
    [InlineData("EventIO:Servers:echo:IdleTimeout", "-00:00:01", "EventIO:Servers:echo:IdleTimeout must be positive")]
    [InlineData("EventIO:Loops", "-1", "EventIO:Loops must be from 0")]
    [InlineData("EventIO:Servers:echo:MaxConnectionsPerAddress", "-1", "EventIO:Servers:echo:MaxConnectionsPerAddress must be 0 (no limit) or more")]
    public async Task BadSettings_FailTheHostsStart_WithTheSettingsName(string key, string value, string message)
    {
        using IHost host = HostingTestSupport.Build(eventio => eventio.AddTcpServer<TcpEchoConnection>("echo"), new() { [key] = value });
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().DefaultTimeout());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Null(host.Services.GetRequiredService<EventIOHostedService>().Loops);
    }

    [Fact]
    public async Task Options_AreBoundFromJsonAndEnvironment_OverTheCodesDefaults()
    {
        string prefix = $"EVENTIO_TEST_{Guid.NewGuid():N}_";
        const string Json = """
            { "EventIO": { "Loops": 2, "Servers": { "echo": { "Address": "localhost", "Port": 1, "MaxConnections": 5, "IdleTimeout": "00:00:30", "Backlog": 64 } } } }
            """;
        Environment.SetEnvironmentVariable(prefix + "EventIO__Servers__echo__Port", "0"); // the environment wins over the file
        try
        {
            using IHost host = HostingTestSupport.Build(
                eventio => eventio.AddTcpServer<TcpEchoConnection>("echo", o =>
                {
                    o.Port = 2;               // code: overridden by configuration
                    o.NoDelay = false;        // code: nothing in configuration, so it stays
                }),
                configureConfiguration: c => c.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Json))).AddEnvironmentVariables(prefix));
            TcpServerHostOptions echo = host.Services.GetRequiredService<IOptionsMonitor<TcpServerHostOptions>>().Get("echo");
            Assert.Equal(("localhost", 0, 5, TimeSpan.FromSeconds(30), 64, false), (echo.Address, echo.Port, echo.MaxConnections, echo.IdleTimeout, echo.Backlog, echo.NoDelay));
            Assert.Equal(2, host.Services.GetRequiredService<IOptions<EventLoopHostOptions>>().Value.Loops);

            await host.StartAsync().DefaultTimeout();
            EventIOHostedService service = host.Services.GetRequiredService<EventIOHostedService>();
            Assert.Equal(2, service.Loops!.Count);
            Assert.Equal(2, service.GetServers("echo").Count); // one listener per loop, one port
            Assert.Equal(IPAddress.Loopback, host.Listener("echo").EndPoint.Address);
            Assert.NotEqual(0, host.Listener("echo").EndPoint.Port);
            var clients = new Socket[6];
            for (int i = 0; i < clients.Length; i++)
            {
                clients[i] = Loopback.TcpConnect(host.Listener("echo").EndPoint); // one at a time: the sixth is the one beyond the cap
                if (i < 5)
                {
                    clients[i].Send("x"u8);
                    Assert.Equal("x"u8.ToArray(), Loopback.ReceiveExactly(clients[i], 1));
                }
                else
                {
                    ServerTestSupport.AssertEndOfStream(clients[i]); // MaxConnections 5, over both loops
                }
            }

            foreach (Socket client in clients)
            {
                client.Dispose();
            }

            await host.StopAsync().DefaultTimeout();
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "EventIO__Servers__echo__Port", null);
        }
    }

    [Fact]
    public async Task PerSourceLimits_FromConfiguration_CapConnectionsPerAddress_AndDatagramsPerSource()
    {
        using IHost host = HostingTestSupport.Build(
            eventio => eventio
                .AddTcpServer<TcpEchoConnection>("echo", o => o.Port = 0)
                .AddUdpServer<UdpEchoServer>("udp", o => o.Port = 0),
            new()
            {
                ["EventIO:Loops"] = "2",
                ["EventIO:Servers:echo:MaxConnectionsPerAddress"] = "2",
                ["EventIO:Servers:udp:RateLimit"] = "1",
                ["EventIO:Servers:udp:RateLimitBurst"] = "5",
            });
        await host.StartAsync().DefaultTimeout();

        // Two connections from 127.0.0.1 over both loops; the third is accepted and closed at once.
        using Socket first = Loopback.TcpConnect(host.Listener("echo").EndPoint);
        using Socket second = Loopback.TcpConnect(host.Listener("echo").EndPoint);
        foreach (Socket client in new[] { first, second })
        {
            client.Send("x"u8);
            Assert.Equal("x"u8.ToArray(), Loopback.ReceiveExactly(client, 1));
        }

        using (Socket third = Loopback.TcpConnect(host.Listener("echo").EndPoint))
        {
            ServerTestSupport.AssertEndOfStream(third);
        }

        // One source, 20 datagrams at once: a burst of 5 is answered, the rest dropped and counted (per server and loop).
        using Socket udp = Loopback.UdpClient();
        for (int i = 0; i < 20; i++)
        {
            udp.SendTo("ping"u8, host.Listener("udp").EndPoint);
        }

        UdpServer[] servers = [.. host.Services.GetRequiredService<EventIOHostedService>().GetServers("udp").Cast<UdpServer>()];
        Eventually.True(() => servers.Sum(s => s.RepliesSent + s.RateLimitedDatagrams) == 20, because: "every datagram answered or counted");
        Assert.InRange(servers.Sum(s => s.RateLimitedDatagrams), 20 - (5 * servers.Length) - servers.Length, 15);
        await host.StopAsync().DefaultTimeout();
    }

    [Fact]
    public async Task Stop_WithConnectionsOpen_FlushesWhatIsInFlight_EndsEachCleanly_AndReturns()
    {
        using IHost host = HostingTestSupport.Build(eventio => eventio.AddTcpServer<TcpEchoConnection>("echo"));
        await host.StartAsync().DefaultTimeout();
        IPEndPoint server = host.Listener("echo").EndPoint;
        using Socket idle = Loopback.TcpConnect(server);
        using Socket busy = Loopback.TcpConnect(server);
        byte[] payload = ServerTestSupport.RandomBytes(256 * 1024, 12);
        busy.Send(payload.AsSpan(0, 1));
        Assert.Equal(payload[..1], Loopback.ReceiveExactly(busy, 1)); // accepted and served before the stop

        var stopwatch = Stopwatch.StartNew();
        Task stop = host.StopAsync();
        ServerTestSupport.AssertEndOfStream(idle);
        ServerTestSupport.AssertEndOfStream(busy);
        await stop.DefaultTimeout();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"stop took {stopwatch.Elapsed}");
        Assert.Throws<SocketException>(() => Loopback.TcpConnect(server)); // nothing listens any more
    }

    [Fact]
    public async Task Stop_WithAPeerThatNeverReads_EndsAtTheHostsShutdownTimeout()
    {
        using IHost host = HostingTestSupport.Build(eventio => eventio.AddTcpServer<TcpEchoConnection>("echo"), shutdownTimeout: TimeSpan.FromMilliseconds(500));
        await host.StartAsync().DefaultTimeout();
        using Socket stuck = Loopback.TcpConnect(host.Listener("echo").EndPoint);
        stuck.Send([1]);
        Assert.Equal([1], Loopback.ReceiveExactly(stuck, 1));
        Task writer = Task.Run(() =>
        {
            try
            {
                stuck.Send(new byte[8 * 1024 * 1024]); // its echo fills every buffer: the drain cannot finish
            }
            catch (SocketException)
            {
                // the server closed it: expected
            }
        });
        EventIOMetrics metrics = host.Services.GetRequiredService<EventIOMetrics>();
        Eventually.True(() => Metrics.MetricsProbe.Read(metrics, "eventio.tcp.queued_bytes") > 0);

        var stopwatch = Stopwatch.StartNew();
        await host.StopAsync().DefaultTimeout();
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(4));
        Assert.Equal(0, Metrics.MetricsProbe.Read(metrics, "eventio.tcp.active_connections"));
        stuck.Dispose();
        await writer.DefaultTimeout();
    }

    /// <summary>A service the connection gets from DI.</summary>
    public sealed record Greeting(string Text);

    /// <summary>Greets on open, through a service from DI.</summary>
    public sealed class GreetingConnection(SafeSocketHandle socket, Greeting greeting) : LineConnection(socket)
    {
        protected override void OnOpened() => SendLine(Encoding.ASCII.GetBytes(greeting.Text));

        protected override void OnLine(ReadOnlySpan<byte> line)
        {
        }
    }
}
