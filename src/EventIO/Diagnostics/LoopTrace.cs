using System.Diagnostics;

namespace EventIO.Diagnostics;

/// <summary>
/// One loop's side of tracing: asks the <see cref="LoopTracer"/> of <see cref="EventLoopOptions.Tracer"/> and the
/// <see cref="EventIOEventSource"/> at each turn whether they want it, and hands each event of a traced turn to
/// those that do. The loop holds it only for traced turns, so an untraced turn costs a null check per callback.
/// </summary>
/// <remarks><b>Threading:</b> the loop thread.</remarks>
internal sealed class LoopTrace
{
    private readonly EventLoop _loop;
    private readonly LoopTracer? _tracer;
    private readonly int _id;
    private bool _toTracer;
    private bool _toEventSource;

    internal LoopTrace(EventLoop loop, int id, LoopTracer? tracer)
    {
        _loop = loop;
        _id = id;
        _tracer = tracer;
    }

    /// <summary>Begins turn <paramref name="turn"/>; false when nobody traces it.</summary>
    internal bool BeginTurn(long turn)
    {
        _toTracer = _tracer is not null && _tracer.BeginTurn(_loop, turn);
        _toEventSource = EventIOEventSource.Log.IsEnabled();
        if (_toEventSource)
        {
            EventIOEventSource.Log.TurnStart(_id, turn);
        }

        return _toTracer || _toEventSource;
    }

    internal void InterestChanged(IEventHandler handler, int descriptor, Interest from, Interest to)
    {
        if (_toTracer)
        {
            _tracer!.InterestChanged(_loop, handler, descriptor, from, to);
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Interest(_id, TraceText.Name(handler), descriptor, TraceText.Operation(from, to), TraceText.Of(from), TraceText.Of(to));
        }
    }

    internal void Waiting(int timeoutMs, LoopWaitReason reason)
    {
        if (_toTracer)
        {
            _tracer!.Waiting(_loop, timeoutMs, reason);
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Wait(_id, timeoutMs, TraceText.Of(reason));
        }
    }

    internal void Woke(int events, long waitedTicks)
    {
        if (_toTracer)
        {
            _tracer!.Woke(_loop, events, Elapsed(waitedTicks));
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Woke(_id, events, Microseconds(waitedTicks));
        }
    }

    internal void Dispatched(IEventHandler handler, int descriptor, Interest ready, bool failed, long ticks)
    {
        if (_toTracer)
        {
            _tracer!.Dispatched(_loop, handler, descriptor, ready, failed, Elapsed(ticks));
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Dispatch(_id, TraceText.Name(handler), descriptor, TraceText.Of(ready), failed, Microseconds(ticks));
        }
    }

    internal void Completed(object owner, byte operation, int result, long ticks)
    {
        string name = TraceText.Operation(operation);
        if (_toTracer)
        {
            _tracer!.Completed(_loop, owner, name, result, Elapsed(ticks));
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Completion(_id, TraceText.Name(owner), name, result, Microseconds(ticks));
        }
    }

    internal void TimerRan(Delegate callback, long ticks)
    {
        if (_toTracer)
        {
            _tracer!.TimerRan(_loop, callback, Elapsed(ticks));
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Timer(_id, TraceText.Name(callback), Microseconds(ticks));
        }
    }

    internal void PostedRan(Delegate callback, bool workerCompletion, long ticks)
    {
        if (_toTracer)
        {
            _tracer!.PostedRan(_loop, callback, workerCompletion, Elapsed(ticks));
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.Posted(_id, TraceText.Name(callback), workerCompletion ? "worker-completion" : "posted", Microseconds(ticks));
        }
    }

    internal void WorkQueued(Delegate work)
    {
        if (_toTracer)
        {
            _tracer!.WorkQueued(_loop, work);
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.WorkQueued(_id, TraceText.Name(work));
        }
    }

    internal void EndTurn(long turn, int work, long busyTicks)
    {
        if (_toTracer)
        {
            _tracer!.EndTurn(_loop, turn, work, Elapsed(busyTicks));
        }

        if (_toEventSource)
        {
            EventIOEventSource.Log.TurnEnd(_id, turn, work, Microseconds(busyTicks));
        }
    }

    private static TimeSpan Elapsed(long ticks) => Stopwatch.GetElapsedTime(0, ticks);

    private static double Microseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
