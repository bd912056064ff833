using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace EventIO.Tests.Tracing;

/// <summary>The <c>EventIO</c> event source: what <c>dotnet-trace collect --providers EventIO</c> records.</summary>
[Collection(EventSourceListenerDefinition.Name)]
public sealed class EventSourceTraceTests
{
    [Fact]
    public void AListener_GetsTheTurnsOfALoopWithNoTracerConfigured_AndNothingOnceItIsGone()
    {
        using var loop = new EventLoop();
        var seen = new ConcurrentQueue<string>();
        using (var listener = new Listener(loop.Id, seen))
        {
            loop.Post(static () => { });
            loop.RunOnce(TimeSpan.Zero);
        }

        string[] names = [.. seen];
        Assert.Equal(["TurnStart", "Wait", "Woke", "Dispatch", "Posted", "TurnEnd"], names); // Dispatch: the waker (posted from outside a turn)

        seen.Clear();
        loop.Post(static () => { });
        loop.RunOnce(TimeSpan.Zero);
        Assert.Empty(seen);
    }

    // Keeps the events of one loop (tests in parallel run loops of their own).
    private sealed class Listener(int loopId, ConcurrentQueue<string> seen) : EventListener
    {
        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "EventIO")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventSource.Name == "EventIO" && eventData.Payload is [int loop, ..] && loop == loopId)
            {
                seen.Enqueue(eventData.EventName!);
            }
        }
    }
}
