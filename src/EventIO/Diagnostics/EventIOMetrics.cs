using System.Diagnostics;
using System.Diagnostics.Metrics;
using EventIO.Net;
using EventIO.Work;

namespace EventIO.Diagnostics;

/// <summary>
/// The <c>EventIO</c> meter (<see cref="System.Diagnostics.Metrics"/>): what the loops, servers and worker pools
/// you <c>Observe</c> are doing, for <c>dotnet-counters</c>, OpenTelemetry or any <see cref="MeterListener"/>.
/// Instrument names follow OpenTelemetry's and Kestrel's conventions (<c>eventio.tcp.active_connections</c>,
/// <c>eventio.tcp.connection.duration</c>, …); the README has the table.
/// </summary>
/// <remarks>
/// <para><b>Cost:</b> none on the path of a message. Every instrument but one is observable: it reads, when a
/// listener asks (once a second for <c>dotnet-counters</c>), counters the building blocks keep anyway. The
/// exception, <c>eventio.tcp.connection.duration</c>, records once per connection when it closes, and only
/// while someone listens. With no listener nothing runs at all.</para>
/// <para><b>Tags:</b> <c>eventio.loop</c> (the loop's name: <c>loop-0</c>, … in the order observed),
/// <c>eventio.server</c> (the name given to <c>Observe</c>), <c>eventio.worker_pool</c>, and where a count
/// has several causes <c>eventio.reason</c>; <c>error.type</c> on a connection that ended in error.</para>
/// <para><b>Threading:</b> any thread. What is observed stays observed until this object is disposed;
/// closed servers keep reporting their final counts.</para>
/// </remarks>
public sealed class EventIOMetrics : IDisposable
{
    /// <summary>The meter's name: <c>EventIO</c> (<c>dotnet-counters monitor --counters EventIO</c>).</summary>
    public const string MeterName = "EventIO";

    /// <summary>Tag: the loop a measurement belongs to.</summary>
    public const string LoopTag = "eventio.loop";

    /// <summary>Tag: the server a measurement belongs to.</summary>
    public const string ServerTag = "eventio.server";

    /// <summary>Tag: the worker pool a measurement belongs to.</summary>
    public const string WorkerPoolTag = "eventio.worker_pool";

    /// <summary>Tag: why, where a count has several causes (dropped replies, rejected connections).</summary>
    public const string ReasonTag = "eventio.reason";

    /// <summary>Tag (OpenTelemetry's): the error that ended a connection.</summary>
    public const string ErrorTypeTag = "error.type";

    // Kestrel's buckets for kestrel.connection.duration: from 10 ms to 5 minutes.
    private static readonly double[] s_durationBuckets = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

    private readonly object _gate = new();
    private readonly bool _ownsMeter;
    private readonly Histogram<double> _connectionDuration;
    private LoopEntry[] _loops = [];
    private ServerEntry<TcpServer>[] _tcp = [];
    private ServerEntry<UdpServer>[] _udp = [];
    private ServerEntry<WorkerPool>[] _pools = [];

    /// <summary>
    /// Creates the instruments on a meter named <see cref="MeterName"/>: from <paramref name="meterFactory"/>
    /// (the host's, which then owns it), else a meter of its own, disposed with this object.
    /// </summary>
    public EventIOMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        // The loop.
        Meter.CreateObservableCounter("eventio.loop.turns", () => OfLoops(static l => l.TurnCount), "{turn}", "Turns of the loop: wait, dispatch, timers, posted actions.");
        Meter.CreateObservableCounter("eventio.loop.busy_time", () => OfLoops(static l => l.BusyTime.TotalSeconds), "s", "Time the loop spent running, not waiting in the poller; its rate is the loop's utilisation (1 = always busy).");
        Meter.CreateObservableCounter("eventio.loop.slow_callbacks", () => OfLoops(static l => l.SlowCallbackCount), "{callback}", "Handlers, timers and posted actions that held the loop longer than its slow-callback threshold.");
        Meter.CreateObservableUpDownCounter("eventio.loop.posted_queue.length", () => OfLoops(static l => (long)l.PostedCount), "{action}", "Actions posted to the loop (from other threads, worker results included) and not yet run.");
        Meter.CreateObservableUpDownCounter("eventio.loop.pending_timers", () => OfLoops(static l => (long)l.PendingTimers), "{timer}", "Timers scheduled on the loop.");
        Meter.CreateObservableUpDownCounter("eventio.loop.registered_handlers", () => OfLoops(static l => (long)l.HandlerCount), "{handler}", "Handlers registered with the loop: listeners, connections, UDP sockets.");

        // TCP.
        Meter.CreateObservableUpDownCounter("eventio.tcp.active_connections", () => OfServers(_tcp, static s => (long)s.ConnectionCount), "{connection}", "Connections accepted and not yet closed.");
        _connectionDuration = Meter.CreateHistogram<double>(
            "eventio.tcp.connection.duration",
            "s",
            "How long connections lived, from accept to close; error.type when one ended in error.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        Meter.CreateObservableCounter("eventio.tcp.accepted_connections", () => OfServers(_tcp, static s => s.AcceptedCount), "{connection}", "Connections accepted.");
        Meter.CreateObservableCounter("eventio.tcp.rejected_connections", RejectedConnections, "{connection}", "Clients accepted and closed at once: eventio.reason max_connections (the cap), max_connections_per_ip (the per-address cap) or out_of_descriptors (EMFILE/ENFILE).");
        Meter.CreateObservableCounter("eventio.tcp.idle_timeouts", () => OfServers(_tcp, static s => s.IdleClosedCount), "{connection}", "Connections closed because their peer sent nothing for the idle timeout.");
        Meter.CreateObservableCounter("eventio.tcp.accept_pauses", () => OfServers(_tcp, static s => s.AcceptPauseCount), "{pause}", "Times accepting paused because the process ran out of descriptors.");
        Meter.CreateObservableUpDownCounter("eventio.tcp.queued_bytes", () => OfServers(_tcp, static s => s.QueuedBytes), "By", "Bytes sent by the application and queued, not yet taken by the kernel, over every connection.");
        Meter.CreateObservableCounter("eventio.tcp.backpressure_pauses", () => OfServers(_tcp, static s => s.ReadPauseCount), "{pause}", "Times a connection queued past its high watermark: unwritable, and it stops reading its peer until it drains.");

        // UDP.
        Meter.CreateObservableCounter("eventio.udp.received_datagrams", () => OfServers(_udp, static s => s.DatagramsReceived), "{datagram}", "Datagrams received.");
        Meter.CreateObservableCounter("eventio.udp.sent_replies", () => OfServers(_udp, static s => s.RepliesSent), "{datagram}", "Replies handed to the kernel.");
        Meter.CreateObservableCounter("eventio.udp.dropped_replies", DroppedReplies, "{datagram}", "Replies dropped: eventio.reason would_block (send buffer full), refused (the kernel refused, e.g. an ICMP error) or closed.");
        Meter.CreateObservableCounter("eventio.udp.rate_limited_datagrams", () => OfServers(_udp, static s => s.RateLimitedDatagrams), "{datagram}", "Datagrams dropped unanswered because their source address was over the rate limit.");
        Meter.CreateObservableCounter("eventio.udp.receive_errors", () => OfServers(_udp, static s => s.ReceiveErrors), "{error}", "Receive errors other than would-block (ICMP errors reported on the socket).");
        Meter.CreateObservableCounter("eventio.udp.truncated_datagrams", () => OfServers(_udp, static s => s.TruncatedDatagrams), "{datagram}", "Datagrams longer than the loop's receive buffer, cut to fit.");
        Meter.CreateObservableCounter("eventio.udp.dropped_datagrams", KernelDrops, "{datagram}", "Datagrams the kernel dropped before the server read them (receive buffer full), from SO_MEMINFO.");

        // The worker pool.
        Meter.CreateObservableUpDownCounter("eventio.worker_pool.queue.length", () => OfServers(_pools, static p => (long)p.QueuedCount), "{work_item}", "Work items waiting for a worker.");
        Meter.CreateObservableUpDownCounter("eventio.worker_pool.busy_workers", () => OfServers(_pools, static p => (long)p.RunningCount), "{thread}", "Workers running an item now.");
        Meter.CreateObservableCounter("eventio.worker_pool.completed_items", () => OfServers(_pools, static p => p.CompletedCount), "{work_item}", "Work items run (failed ones included).");
        Meter.CreateObservableCounter("eventio.worker_pool.failed_items", () => OfServers(_pools, static p => p.FailedCount), "{work_item}", "Work items whose work threw.");
        Meter.CreateObservableCounter("eventio.worker_pool.rejected_items", () => OfServers(_pools, static p => p.RejectedCount), "{work_item}", "Work items refused because the queue was full (busy).");
    }

    /// <summary>The meter the instruments live on: add your own instruments to it, or filter a <see cref="MeterListener"/> by it.</summary>
    public Meter Meter { get; }

    /// <summary>Observes <paramref name="loop"/>, tagged <c>eventio.loop</c> = <paramref name="name"/> (<c>loop-0</c>, say).</summary>
    public void Observe(EventLoop loop, string name)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            _loops = [.. _loops, new LoopEntry(loop, name)];
        }
    }

    /// <summary>Observes every loop of <paramref name="group"/>, named <c>loop-0</c>, <c>loop-1</c>, … (as their threads).</summary>
    public void Observe(EventLoopGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        for (int i = 0; i < group.Count; i++)
        {
            Observe(group[i], $"loop-{i}");
        }
    }

    /// <summary>
    /// Observes <paramref name="server"/> as <c>eventio.server</c> = <paramref name="name"/> (one name for the
    /// servers of every loop on one port: their measurements differ by <c>eventio.loop</c>), and records its
    /// connections' durations. A server reports its durations to one metrics object: the last to observe it.
    /// </summary>
    public void Observe(TcpServer server, string name)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(name);
        server.Metrics = new TcpServerMetrics(_connectionDuration, name, this);
        lock (_gate)
        {
            _tcp = [.. _tcp, new ServerEntry<TcpServer>(server, name)];
        }
    }

    /// <summary>Observes <paramref name="server"/> as <c>eventio.server</c> = <paramref name="name"/>.</summary>
    public void Observe(UdpServer server, string name)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            _udp = [.. _udp, new ServerEntry<UdpServer>(server, name)];
        }
    }

    /// <summary>Observes <paramref name="pool"/> as <c>eventio.worker_pool</c> = <paramref name="name"/>.</summary>
    public void Observe(WorkerPool pool, string name)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            _pools = [.. _pools, new ServerEntry<WorkerPool>(pool, name)];
        }
    }

    /// <summary>The name <paramref name="loop"/> was observed under, or null.</summary>
    public string? NameOf(EventLoop loop)
    {
        foreach (LoopEntry entry in Volatile.Read(ref _loops))
        {
            if (ReferenceEquals(entry.Loop, loop))
            {
                return entry.Name;
            }
        }

        return null;
    }

    /// <summary>Disposes the meter if this object made it (a factory's meters are the factory's to dispose).</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }

    /// <summary>The tags of a measurement about <paramref name="handler"/>: its server name and, once added to an observed loop, the loop's.</summary>
    internal TagList TagsOf(LoopHandler handler, string server)
    {
        var tags = new TagList { { ServerTag, server } };
        if (handler.IsAttached && NameOf(handler.Loop) is { } loop)
        {
            tags.Add(LoopTag, loop);
        }

        return tags;
    }

    private List<Measurement<T>> OfLoops<T>(Func<EventLoop, T> read)
        where T : struct
    {
        LoopEntry[] loops = Volatile.Read(ref _loops);
        var measurements = new List<Measurement<T>>(loops.Length);
        foreach (LoopEntry entry in loops)
        {
            measurements.Add(new Measurement<T>(read(entry.Loop), new KeyValuePair<string, object?>(LoopTag, entry.Name)));
        }

        return measurements;
    }

    // Called with the field's current array (the lambdas read it when a listener asks).
    private List<Measurement<long>> OfServers<TServer>(ServerEntry<TServer>[] servers, Func<TServer, long> read)
        where TServer : class
    {
        var measurements = new List<Measurement<long>>(servers.Length);
        foreach (ServerEntry<TServer> entry in servers)
        {
            measurements.Add(new Measurement<long>(read(entry.Server), TagsOf(entry)));
        }

        return measurements;
    }

    private IEnumerable<Measurement<long>> RejectedConnections()
    {
        foreach (ServerEntry<TcpServer> entry in Volatile.Read(ref _tcp))
        {
            long atLimit = entry.Server.RejectedAtLimitCount, perAddress = entry.Server.RejectedPerAddressCount;
            yield return new Measurement<long>(atLimit, With(TagsOf(entry), ReasonTag, "max_connections"));
            yield return new Measurement<long>(perAddress, With(TagsOf(entry), ReasonTag, "max_connections_per_ip"));
            yield return new Measurement<long>(entry.Server.RejectedCount - atLimit - perAddress, With(TagsOf(entry), ReasonTag, "out_of_descriptors"));
        }
    }

    private IEnumerable<Measurement<long>> DroppedReplies()
    {
        foreach (ServerEntry<UdpServer> entry in Volatile.Read(ref _udp))
        {
            UdpServer s = entry.Server;
            long wouldBlock = s.RepliesDroppedWouldBlock, closed = s.RepliesDroppedClosed;
            yield return new Measurement<long>(wouldBlock, With(TagsOf(entry), ReasonTag, "would_block"));
            yield return new Measurement<long>(s.RepliesDropped - wouldBlock - closed, With(TagsOf(entry), ReasonTag, "refused"));
            yield return new Measurement<long>(closed, With(TagsOf(entry), ReasonTag, "closed"));
        }
    }

    private IEnumerable<Measurement<long>> KernelDrops()
    {
        foreach (ServerEntry<UdpServer> entry in Volatile.Read(ref _udp))
        {
            if (entry.Server.KernelDrops() is long drops)
            {
                yield return new Measurement<long>(drops, TagsOf(entry));
            }
        }
    }

    private TagList TagsOf<TServer>(ServerEntry<TServer> entry)
        where TServer : class
    {
        if (entry.Server is LoopHandler handler)
        {
            return TagsOf(handler, entry.Name);
        }

        return new TagList { { WorkerPoolTag, entry.Name } };
    }

    private static TagList With(TagList tags, string key, string value)
    {
        tags.Add(key, value);
        return tags;
    }

    private sealed record LoopEntry(EventLoop Loop, string Name);

    private sealed record ServerEntry<TServer>(TServer Server, string Name)
        where TServer : class;
}
