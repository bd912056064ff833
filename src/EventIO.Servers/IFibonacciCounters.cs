namespace EventIO.Servers;

/// <summary>What <see cref="FibonacciMetrics"/> reads from a Fibonacci server, whichever way it is written.</summary>
internal interface IFibonacciCounters : IFibonacciServer
{
    /// <summary>The server itself: its loop names the measurements.</summary>
    LoopHandler Handler { get; }

    /// <summary>Requests computed on the loop at once.</summary>
    long InlineRequests { get; }

    /// <summary>Requests handed to the pool.</summary>
    long PooledRequests { get; }

    /// <summary>Requests answered <c>error: shutting down</c>.</summary>
    long ShutdownReplies { get; }

    /// <summary>Of the invalid requests, those refused for <paramref name="reason"/>. Any thread.</summary>
    long InvalidRequestsFor(FibonacciRequestError reason);
}
