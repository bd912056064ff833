using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using EventIO.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EventIO.Servers;

/// <summary>
/// <c>eventio serve --metrics-interval SECONDS</c>: every interval, one log line summing up the <c>EventIO</c>
/// meter, read through a <see cref="MeterListener"/> as any other listener would (so it shows exactly what
/// <c>dotnet-counters</c> shows): loop utilisation, turns, connections, datagrams, the pool, Fibonacci refusals.
/// Runs on a timer thread; the loops do nothing more for it.
/// </summary>
internal sealed class MetricsSummary : IDisposable
{
    private readonly object _gate = new();
    private readonly MeterListener _listener = new();
    private readonly ILogger _logger;
    private readonly Timer _timer;
    private readonly Dictionary<string, double> _now = new(StringComparer.Ordinal);   // this reading, key: instrument[|tag value]
    private Dictionary<string, double> _last = new(StringComparer.Ordinal);           // the previous reading
    private long _closedConnections;                                                  // histogram records (loop threads)
    private long _lastClosed;
    private long _lastTime = Stopwatch.GetTimestamp();

    internal MetricsSummary(EventIOMetrics metrics, TimeSpan interval, ILogger logger)
    {
        _logger = logger;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument is Histogram<double>)
            {
                Interlocked.Increment(ref _closedConnections); // eventio.tcp.connection.duration: one per closed connection
            }
            else
            {
                Add(instrument, value, tags);
            }
        });
        _listener.Start();
        _timer = new Timer(static s => ((MetricsSummary)s!).Report(), this, interval, interval);
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            _listener.Dispose();
        }
    }

    /// <summary>Reads every instrument and logs one line; also called by tests.</summary>
    internal string? Report()
    {
        lock (_gate)
        {
            _now.Clear();
            _listener.RecordObservableInstruments();
            long time = Stopwatch.GetTimestamp();
            double seconds = Math.Max(Stopwatch.GetElapsedTime(_lastTime, time).TotalSeconds, 1e-3);
            long closed = Interlocked.Read(ref _closedConnections);
            string line = Format(seconds, closed - _lastClosed);
            _last = new Dictionary<string, double>(_now, StringComparer.Ordinal);
            _lastTime = time;
            _lastClosed = closed;
            RecipeHostLog.MetricsSummary(_logger, line);
            return line;
        }
    }

    // Sums every measurement of an instrument under its name, and under name|loop, name|reason and name|outcome.
    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_gate)
        {
            Sum(instrument.Name, value);
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key is EventIOMetrics.LoopTag or EventIOMetrics.ReasonTag or FibonacciMetrics.OutcomeTag)
                {
                    Sum($"{instrument.Name}|{tag.Value}", value);
                }
            }
        }
    }

    private void Sum(string key, double value) => _now[key] = _now.GetValueOrDefault(key) + value;

    private string Format(double seconds, long closed)
    {
        var line = new StringBuilder("metrics:");
        var loops = _now.Keys.Where(k => k.StartsWith("eventio.loop.busy_time|", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (loops.Count > 0)
        {
            line.Append(" busy");
            foreach (string key in loops)
            {
                line.Append(CultureInfo.InvariantCulture, $" {key[(key.IndexOf('|') + 1)..]} {100 * Delta(key) / seconds:0}%");
            }

            line.Append(CultureInfo.InvariantCulture, $", {Delta("eventio.loop.turns") / seconds:0} turns/s, {Value("eventio.loop.slow_callbacks"):0} slow callbacks;");
        }

        if (_now.ContainsKey("eventio.tcp.active_connections"))
        {
            line.Append(CultureInfo.InvariantCulture, $" tcp {Value("eventio.tcp.active_connections"):0} open, {Delta("eventio.tcp.accepted_connections"):0} accepted, {closed} closed, {Delta("eventio.tcp.rejected_connections"):0} rejected, {Value("eventio.tcp.queued_bytes"):0} B queued;");
        }

        if (_now.ContainsKey("eventio.udp.received_datagrams"))
        {
            line.Append(CultureInfo.InvariantCulture, $" udp {Delta("eventio.udp.received_datagrams") / seconds:0} datagrams/s, {Delta("eventio.udp.sent_replies") / seconds:0} replies/s, {Delta("eventio.udp.dropped_replies"):0} replies dropped, {Delta("eventio.udp.dropped_datagrams"):0} dropped by the kernel;");
        }

        if (_now.ContainsKey("eventio.worker_pool.queue.length"))
        {
            line.Append(CultureInfo.InvariantCulture, $" pool {Value("eventio.worker_pool.queue.length"):0} queued, {Value("eventio.worker_pool.busy_workers"):0} busy, {Delta("eventio.worker_pool.completed_items"):0} done, {Delta("eventio.worker_pool.rejected_items"):0} rejected;");
        }

        if (_now.ContainsKey("eventio.fib.requests"))
        {
            line.Append(CultureInfo.InvariantCulture, $" fib {Delta("eventio.fib.requests") / seconds:0} requests/s, {Delta("eventio.fib.requests|busy"):0} busy, {Delta("eventio.fib.requests|invalid"):0} invalid;");
        }

        if (line[^1] == ';')
        {
            line.Length--;
        }

        return line.ToString();
    }

    private double Value(string key) => _now.GetValueOrDefault(key);

    private double Delta(string key) => _now.GetValueOrDefault(key) - _last.GetValueOrDefault(key);
}
