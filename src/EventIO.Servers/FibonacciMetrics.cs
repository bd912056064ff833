using System.Diagnostics;
using System.Diagnostics.Metrics;
using EventIO.Diagnostics;

namespace EventIO.Servers;

/// <summary>
/// <c>eventio.fib.requests</c> (by <c>eventio.outcome</c>: <c>inline</c>, <c>pool</c>, <c>busy</c>,
/// <c>invalid</c> with <c>eventio.reason</c>, <c>shutting_down</c>) and <c>eventio.fib.pending_requests</c>, on
/// the <c>EventIO</c> meter: observable, read from the counters the Fibonacci servers keep.
/// </summary>
internal static class FibonacciMetrics
{
    /// <summary>Tag: what became of a request.</summary>
    internal const string OutcomeTag = "eventio.outcome";

    private static readonly (FibonacciRequestError Error, string Name)[] s_reasons =
    [
        (FibonacciRequestError.Empty, "empty"),
        (FibonacciRequestError.TooLong, "too_long"),
        (FibonacciRequestError.NotANumber, "not_a_number"),
        (FibonacciRequestError.Negative, "negative"),
        (FibonacciRequestError.TooLarge, "too_large"),
    ];

    /// <summary>Creates the instruments for <paramref name="servers"/> (the Fibonacci servers of every loop, named <paramref name="name"/>).</summary>
    internal static void Observe(EventIOMetrics metrics, string name, IReadOnlyList<IFibonacciCounters> servers)
    {
        metrics.Meter.CreateObservableCounter("eventio.fib.requests", () => Requests(metrics, name, servers), "{request}", "Fibonacci requests by eventio.outcome: inline (n ≤ 20, on the loop), pool, busy (queue full), invalid (by eventio.reason), shutting_down.");
        metrics.Meter.CreateObservableUpDownCounter("eventio.fib.pending_requests", () => servers.Select(s => new Measurement<long>(s.PendingRequests, Tags(metrics, name, s))), "{request}", "Requests handed to the pool and not yet answered.");
    }

    private static IEnumerable<Measurement<long>> Requests(EventIOMetrics metrics, string name, IReadOnlyList<IFibonacciCounters> servers)
    {
        foreach (IFibonacciCounters server in servers)
        {
            yield return Outcome(server.InlineRequests, "inline");
            yield return Outcome(server.PooledRequests, "pool");
            yield return Outcome(server.BusyReplies, "busy");
            yield return Outcome(server.ShutdownReplies, "shutting_down");
            foreach ((FibonacciRequestError error, string reason) in s_reasons)
            {
                TagList tags = Tags(metrics, name, server);
                tags.Add(OutcomeTag, "invalid");
                tags.Add(EventIOMetrics.ReasonTag, reason);
                yield return new Measurement<long>(server.InvalidRequestsFor(error), tags);
            }

            Measurement<long> Outcome(long value, string outcome)
            {
                TagList tags = Tags(metrics, name, server);
                tags.Add(OutcomeTag, outcome);
                return new Measurement<long>(value, tags);
            }
        }
    }

    private static TagList Tags(EventIOMetrics metrics, string name, IFibonacciCounters server)
    {
        var tags = new TagList { { EventIOMetrics.ServerTag, name } };
        if (server.Handler is { IsAttached: true } handler && metrics.NameOf(handler.Loop) is { } loop)
        {
            tags.Add(EventIOMetrics.LoopTag, loop);
        }

        return tags;
    }
}
