using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace EventIO.Cli.Load;

/// <summary>
/// <c>eventio bench</c>: a closed-loop load generator in the shape of echoload (bench/echoload.c). Opens
/// the connections one at a time (any failure ends the run with a <see cref="ClientException"/>), runs
/// warm-up and the measured window, collects the echoes still in flight (at most 1 s), closes, and
/// returns the result.
/// </summary>
/// <remarks>
/// <para><b>Why EventIO's own loop and not .NET async sockets.</b> Every connection is an
/// <see cref="IEventHandler"/> on one <see cref="EventLoop"/> thread with non-blocking sockets: a round trip
/// costs one <c>recv</c>, one <c>send</c> and a share of one <c>epoll_wait</c>, with no thread hop and no
/// allocation, which is what echoload does in C. Both were measured against <c>eventio serve</c> (Release,
/// server on CPU 0, load on CPU 1, TCP, 100 connections, 64 B, ping-pong, 3 s after 1 s warm-up, quiet
/// 2-vCPU machine): this loop made 73k–100k round trips/s with the server at ~90 % of its core; a client
/// with one async method per connection doing <c>SendAsync</c>/<c>ReceiveAsync</c> on preallocated
/// <c>Memory&lt;byte&gt;</c> (ValueTask, no allocation per message) made 39k–41k, its own core saturated
/// by .NET's epoll thread handing every completion to the thread pool, the server at 60–70 %. Only the
/// loop can load a server here.</para>
/// <para><b>Threading:</b> everything after set-up runs on the calling thread, inside the loop.</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class LoadGenerator
{
    private static readonly TimeSpan s_udpScanInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_minimumProbeTime = TimeSpan.FromSeconds(1);

    /// <summary>Runs the load; throws <see cref="ClientException"/> if the connections cannot be set up.</summary>
    internal static BenchResult Run(BenchSettings settings)
    {
        using var loop = new EventLoop();
        var run = new LoadRun(settings, loop);
        CheckDescriptorLimit(settings);
        long setupStarted = Stopwatch.GetTimestamp();
        TcpLoadConnection[] tcp = [];
        UdpLoadSocket[] udp = [];
        try
        {
            if (settings.Protocol == BenchProtocol.Tcp)
            {
                tcp = OpenTcp(run);
            }
            else
            {
                ProbeUdp(settings, run.Pattern);
                udp = OpenUdp(run);
            }

            double setupSeconds = LoadRun.ToSeconds(Stopwatch.GetTimestamp() - setupStarted);
            if (setupSeconds > 1)
            {
                Console.Error.WriteLine($"eventio bench: opening {settings.Connections} {settings.ProtocolName} connections took {setupSeconds:0.0} s");
            }

            run.Alive = settings.Connections;
            run.Begin(Stopwatch.GetTimestamp());
            foreach (TcpLoadConnection connection in tcp)
            {
                connection.Start();
                if (!connection.IsClosed)
                {
                    loop.Add(connection);
                }
            }

            foreach (UdpLoadSocket socket in udp)
            {
                socket.Start();
                loop.Add(socket);
            }

            ScheduleTimers(run, udp);
            int interrupts = 0;
            using (PosixSignalRegistration.Create(PosixSignal.SIGINT, context => OnInterrupt(context, run, Interlocked.Increment(ref interrupts))))
            {
                loop.Run();
            }

            return new BenchResult(run, setupSeconds);
        }
        finally
        {
            foreach (TcpLoadConnection connection in tcp)
            {
                connection.Dispose();
            }

            foreach (UdpLoadSocket socket in udp)
            {
                socket.Dispose();
            }
        }
    }

    // The first Ctrl+C ends the window early and still reports; a second one ends the process.
    private static void OnInterrupt(PosixSignalContext context, LoadRun run, int count)
    {
        if (count == 1 && run.Loop.Post(static s => ((LoadRun)s!).EndWindow(), run))
        {
            context.Cancel = true;
        }
    }

    private static void ScheduleTimers(LoadRun run, UdpLoadSocket[] udp)
    {
        EventLoop loop = run.Loop;
        long now = Stopwatch.GetTimestamp();
        loop.CallLater(TimeSpan.FromSeconds(LoadRun.ToSeconds(run.WindowEnd - now)), static s => ((LoadRun)s!).EndWindow(), run);
        new ProgressReporter(run).Start();
        if (udp.Length > 0)
        {
            long timeoutTicks = LoadRun.ToTicks(run.Settings.Timeout);
            Action? scan = null;
            scan = () =>
            {
                long at = Stopwatch.GetTimestamp();
                foreach (UdpLoadSocket socket in udp)
                {
                    socket.ScanTimeouts(at, timeoutTicks);
                }

                loop.CallLater(s_udpScanInterval, scan!);
            };
            loop.CallLater(s_udpScanInterval, scan);
        }
    }

    /// <summary>
    /// Refuses a run that would exhaust the descriptor limit: past it the .NET runtime cannot start a
    /// thread (its <c>pipe2</c> fails with EMFILE) and the process dies of SIGSEGV instead of reporting.
    /// The runtime has already raised the soft limit to the hard one, so only the user can raise it further.
    /// </summary>
    private static void CheckDescriptorLimit(BenchSettings settings)
    {
        const int Headroom = 256; // the runtime's own: assemblies it maps later, pipes, eventfd, epoll
        long limit = OpenFilesLimit();
        if (limit <= 0)
        {
            return; // not Linux, or unknown: let the sockets fail by themselves
        }

        long needed = Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount() + settings.Connections + Headroom;
        if (needed > limit)
        {
            throw new ClientException($"bench: {settings.Connections} {settings.ProtocolName} connections need about {needed} file descriptors, but this process may open at most {limit} (raise the limit: ulimit -n; the hard limit, as root: ulimit -Hn).");
        }
    }

    // The soft RLIMIT_NOFILE, from /proc/self/limits ("Max open files  SOFT  HARD  files"); -1 if unknown.
    private static long OpenFilesLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft) ? soft : -1;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return -1;
    }

    private static TcpLoadConnection[] OpenTcp(LoadRun run)
        => OpenAll(run.Settings, i => new TcpLoadConnection(run, ConnectTcp(run.Settings, i), (uint)i));

    private static UdpLoadSocket[] OpenUdp(LoadRun run)
        => OpenAll(run.Settings, i => new UdpLoadSocket(run, ConnectUdp(run.Settings, i), (uint)i));

    // Opens settings.Connections sockets with open(i); if one fails, closes those already open and rethrows.
    private static T[] OpenAll<T>(BenchSettings settings, Func<int, T> open)
        where T : IDisposable
    {
        var opened = new List<T>(settings.Connections);
        try
        {
            for (int i = 0; i < settings.Connections; i++)
            {
                opened.Add(open(i));
            }

            return [.. opened];
        }
        catch
        {
            foreach (T item in opened)
            {
                item.Dispose();
            }

            throw;
        }
    }

    // One at a time, as echoload: a non-blocking connect, then at most the timeout for it to complete.
    private static Socket ConnectTcp(BenchSettings settings, int index)
    {
        IPEndPoint server = settings.Server;
        Socket socket;
        try
        {
            socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        }
        catch (SocketException ex)
        {
            throw SetupFailed(settings, index, ex.Message, ex);
        }

        try
        {
            socket.NoDelay = true;
            socket.Blocking = false;
            try
            {
                socket.Connect(server);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
            }

            if (!socket.Poll(settings.Timeout, SelectMode.SelectWrite))
            {
                throw SetupFailed(settings, index, $"no answer within {settings.Timeout.TotalSeconds:0.###} s (is `eventio serve` running?)");
            }

            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw SetupFailed(settings, index, Reason(ex), ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Connected: only the server's datagrams arrive, and ICMP errors are reported.
    private static Socket ConnectUdp(BenchSettings settings, int index)
    {
        Socket socket;
        try
        {
            socket = new Socket(settings.Server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        }
        catch (SocketException ex)
        {
            throw SetupFailed(settings, index, ex.Message, ex);
        }

        try
        {
            socket.Connect(settings.Server);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw SetupFailed(settings, index, ex.Message, ex);
        }
    }

    /// <summary>
    /// UDP has no connection to fail, so one verified echo first: a refused port or a silent one ends the
    /// run here with a clear error instead of a run full of errors or losses. Resent every timeout, for at
    /// least a second.
    /// </summary>
    private static void ProbeUdp(BenchSettings settings, MessagePattern pattern)
    {
        IPEndPoint server = settings.Server;
        const uint ProbeId = 0xFFFFFF; // not a load socket's id: its echo can never be taken for one
        byte[] probe = new byte[settings.Size];
        pattern.Build(probe, ProbeId, 1);
        byte[] reply = new byte[65536];
        TimeSpan limit = settings.Timeout > s_minimumProbeTime ? settings.Timeout : s_minimumProbeTime;
        var clock = Stopwatch.StartNew();
        try
        {
            using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(server);
            while (clock.Elapsed < limit)
            {
                socket.Send(probe);
                TimeSpan wait = limit - clock.Elapsed;
                if (socket.Poll(wait < settings.Timeout ? wait : settings.Timeout, SelectMode.SelectRead))
                {
                    int n = socket.Receive(reply);
                    if (n == probe.Length && pattern.Matches(reply.AsSpan(0, n), ProbeId, 1, 0))
                    {
                        return;
                    }

                    throw new ClientException($"bench: udp {server} answered with something other than an echo of what was sent (is it an echo server?)");
                }
            }
        }
        catch (SocketException ex)
        {
            throw new ClientException($"bench: udp {server}: {Reason(ex)}", ex);
        }

        throw new ClientException($"bench: no echo from udp {server} within {limit.TotalMilliseconds:0} ms (is `eventio serve` running?)");
    }

    private static string Reason(SocketException ex) => ex.SocketErrorCode == SocketError.ConnectionRefused
        ? "connection refused: nothing is listening there (start `eventio serve`)"
        : ex.Message;

    private static ClientException SetupFailed(BenchSettings settings, int index, string reason, Exception? inner = null)
    {
        string message = $"bench: {settings.ProtocolName} connection {index + 1} of {settings.Connections} to {settings.Server} failed: {reason}";
        return inner is null ? new ClientException(message) : new ClientException(message, inner);
    }
}
