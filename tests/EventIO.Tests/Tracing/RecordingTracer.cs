using System.Collections.Concurrent;
using EventIO.Diagnostics;

namespace EventIO.Tests.Tracing;

/// <summary>A tracer that keeps each event as a line, <c>turn: what</c>, for tests to search in order.</summary>
internal sealed class RecordingTracer : LoopTracer
{
    private readonly ConcurrentQueue<(long Turn, string Text)> _events = new();
    private long _turn;

    public IReadOnlyList<(long Turn, string Text)> Events => [.. _events];

    public override bool BeginTurn(EventLoop eventLoop, long turn)
    {
        _turn = turn;
        return true;
    }

    public override void InterestChanged(EventLoop eventLoop, IEventHandler handler, int descriptor, Interest previous, Interest current)
        => Add($"interest {Op(previous, current)} {handler.GetType().Name}");

    public override void Waiting(EventLoop eventLoop, int timeoutMs, LoopWaitReason reason) => Add($"wait {reason}");

    public override void Woke(EventLoop eventLoop, int events, TimeSpan waited) => Add($"woke {events}");

    public override void Dispatched(EventLoop eventLoop, IEventHandler handler, int descriptor, Interest ready, bool failed, TimeSpan elapsed)
        => Add($"ready {handler.GetType().Name} {ready}");

    public override void Completed(EventLoop eventLoop, object owner, string operation, int result, TimeSpan elapsed)
        => Add($"completion {operation} {result} {owner.GetType().Name}");

    public override void TimerRan(EventLoop eventLoop, Delegate callback, TimeSpan elapsed) => Add($"timer {TraceText.Name(callback)}");

    public override void PostedRan(EventLoop eventLoop, Delegate callback, bool workerCompletion, TimeSpan elapsed)
        => Add($"posted{(workerCompletion ? " worker" : "")} {TraceText.Name(callback)}");

    public override void WorkQueued(EventLoop eventLoop, Delegate work) => Add($"queued {TraceText.Name(work)}");

    public override void EndTurn(EventLoop eventLoop, long turn, int work, TimeSpan busy) => Add("end");

    /// <summary>The first event at or after <paramref name="from"/> that starts with <paramref name="prefix"/>, or -1.</summary>
    public static int IndexOf(IReadOnlyList<(long Turn, string Text)> events, string prefix, int from = 0)
    {
        for (int i = Math.Max(from, 0); from >= 0 && i < events.Count; i++)
        {
            if (events[i].Text.StartsWith(prefix, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Op(Interest previous, Interest current)
        => previous == Interest.None ? "add" : current == Interest.None ? "remove" : "modify";

    private void Add(string text) => _events.Enqueue((_turn, text));
}
