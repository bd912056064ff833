namespace EventIO.Servers;

/// <summary>The totals a Fibonacci server keeps, whichever way it is written (<see cref="UdpFibonacciServer"/>, <see cref="AsyncUdpFibonacciServer"/>).</summary>
public interface IFibonacciServer
{
    /// <summary>Requests refused with <c>error: busy</c> because the pool's queue was full. Loop thread (or after the loop has stopped).</summary>
    long BusyReplies { get; }

    /// <summary>Requests refused because they were not a valid n. Loop thread (or after the loop has stopped).</summary>
    long InvalidRequests { get; }

    /// <summary>Requests handed to the pool that have not been answered yet. Loop thread (or after the loop has stopped).</summary>
    int PendingRequests { get; }
}
