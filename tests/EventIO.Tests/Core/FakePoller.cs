using EventIO.Polling;

namespace EventIO.Tests.Core;

/// <summary>A poller that records every call and fails on request: the registry's contract without a kernel.</summary>
internal sealed class FakePoller : IPoller
{
    public List<string> Calls { get; } = [];

    /// <summary>Descriptors whose next Add or Modify throws.</summary>
    public HashSet<int> FailNext { get; } = [];

    /// <summary>Events the next Wait returns.</summary>
    public Queue<ReadyEvent> Pending { get; } = new();

    public string Name => "fake";

    public void Add(int fd, Interest interest, ulong token) => Record("add", fd, interest, token);

    public void Modify(int fd, Interest interest, ulong token) => Record("mod", fd, interest, token);

    public void Remove(int fd) => Calls.Add($"del {fd}");

    public int Wait(Span<ReadyEvent> events, int timeoutMs)
    {
        int n = 0;
        while (n < events.Length && Pending.TryDequeue(out ReadyEvent ev))
        {
            events[n++] = ev;
        }

        return n;
    }

    public void Dispose() => Calls.Add("dispose");

    private void Record(string verb, int fd, Interest interest, ulong token)
    {
        if (FailNext.Remove(fd))
        {
            throw new InvalidOperationException($"{verb} {fd} refused");
        }

        Calls.Add($"{verb} {fd} {interest}");
    }
}
