using System.Diagnostics.Tracing;

namespace EventIO.Diagnostics;

/// <summary>
/// The loop's turns as events of the <c>EventIO</c> event source, the same events a <see cref="LoopTracer"/> gets:
/// <c>dotnet-trace collect --providers EventIO -p PID</c> records them from a running process, no restart.
/// </summary>
/// <remarks>
/// Every loop checks <see cref="EventSource.IsEnabled()"/> once per turn; while no session listens, nothing
/// else runs. Durations are in microseconds; interests are written <c>R</c>, <c>W</c>, <c>RW</c> or <c>-</c>.
/// </remarks>
[EventSource(Name = "EventIO")]
internal sealed class EventIOEventSource : EventSource
{
    /// <summary>The one instance.</summary>
    internal static readonly EventIOEventSource Log = new();

    private EventIOEventSource()
    {
    }

    /// <summary>A turn began.</summary>
    [Event(1, Level = EventLevel.Verbose, Message = "loop {0} turn {1}")]
    public void TurnStart(int loop, long turn) => WriteEvent(1, loop, turn);

    /// <summary>The kernel was told a new interest (op: add, modify, remove).</summary>
    [Event(2, Level = EventLevel.Verbose, Message = "loop {0}: {3} fd {2} {1} {4} -> {5}")]
    public void Interest(int loop, string handler, int fd, string op, string from, string to) => WriteEvent(2, loop, handler, fd, op, from, to);

    /// <summary>The loop is about to wait.</summary>
    [Event(3, Level = EventLevel.Verbose, Message = "loop {0}: wait up to {1} ms ({2})")]
    public void Wait(int loop, int timeoutMs, string reason) => WriteEvent(3, loop, timeoutMs, reason);

    /// <summary>The wait returned.</summary>
    [Event(4, Level = EventLevel.Verbose, Message = "loop {0}: {1} events after {2} us")]
    public void Woke(int loop, int events, double waitedUs) => WriteEvent(4, loop, events, waitedUs);

    /// <summary>A ready handler was dispatched.</summary>
    [Event(5, Level = EventLevel.Verbose, Message = "loop {0}: ready fd {2} {1} {3} failed={4} {5} us")]
    public void Dispatch(int loop, string handler, int fd, string ready, bool failed, double us) => WriteEvent(5, loop, handler, fd, ready, failed, us);

    /// <summary>An io_uring completion was handed to its owner.</summary>
    [Event(6, Level = EventLevel.Verbose, Message = "loop {0}: completion {2} {3} for {1} {4} us")]
    public void Completion(int loop, string owner, string operation, int result, double us) => WriteEvent(6, loop, owner, operation, result, us);

    /// <summary>A timer ran.</summary>
    [Event(7, Level = EventLevel.Verbose, Message = "loop {0}: timer {1} {2} us")]
    public void Timer(int loop, string callback, double us) => WriteEvent(7, loop, callback, us);

    /// <summary>A posted action ran (kind: posted, or worker-completion).</summary>
    [Event(8, Level = EventLevel.Verbose, Message = "loop {0}: {2} {1} {3} us")]
    public void Posted(int loop, string callback, string kind, double us) => WriteEvent(8, loop, callback, kind, us);

    /// <summary>Work was queued on the worker pool.</summary>
    [Event(9, Level = EventLevel.Verbose, Message = "loop {0}: queued {1} on the worker pool")]
    public void WorkQueued(int loop, string work) => WriteEvent(9, loop, work);

    /// <summary>A turn ended.</summary>
    [Event(10, Level = EventLevel.Verbose, Message = "loop {0} turn {1}: {2} callbacks, busy {3} us")]
    public void TurnEnd(int loop, long turn, int work, double busyUs) => WriteEvent(10, loop, turn, work, busyUs);
}
