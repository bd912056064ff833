using EventIO.Polling;
using EventIO.Tests.Loop;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Core;

/// <summary>The registry against a fake poller: what the kernel is told, tokens and generations, stale owners.</summary>
public sealed class RegistryTests : IDisposable
{
    private readonly FakePoller _poller = new();
    private readonly CollectingLogger _logger = new();
    private readonly List<(IEventHandler Handler, Exception Error)> _failures = [];
    private readonly Registry _registry;

    public RegistryTests() => _registry = new Registry(_poller, _logger, (h, e) => _failures.Add((h, e)));

    public void Dispose() => _registry.Dispose();

    [Fact]
    public void Add_TellsThePollerTheWantsOfNow_AndCounts()
    {
        var h = new FakeHandler(10) { WantsToReceive = true };
        _registry.Add(h);

        Assert.Equal(["add 10 Readable"], _poller.Calls);
        Assert.Equal(1, _registry.Count);
    }

    [Fact]
    public void Add_OfAHandlerThatWantsNothing_OnlyValidates()
    {
        _registry.Add(new FakeHandler(11));

        Assert.Equal(["add 11 None"], _poller.Calls); // the backend checks it could watch it; the kernel gets nothing
    }

    [Fact]
    public void Add_Twice_Throws_AndTheFirstRegistrationStands()
    {
        var h = new FakeHandler(12) { WantsToReceive = true };
        _registry.Add(h);

        Assert.Throws<InvalidOperationException>(() => _registry.Add(h));
        Assert.Single(_poller.Calls);
        Assert.Equal(1, _registry.Count);
    }

    [Fact]
    public void Add_OfAnotherHandlerOnALiveDescriptor_IsRefused()
    {
        _registry.Add(new FakeHandler(13) { WantsToReceive = true });

        var error = Assert.Throws<InvalidOperationException>(() => _registry.Add(new FakeHandler(13)));
        Assert.Contains("already registered", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _registry.Count);
    }

    [Fact]
    public void Add_OverAStaleOwnerWhoseHandleWasClosed_EvictsIt_AndLogs()
    {
        var stale = new FakeHandler(14) { WantsToReceive = true };
        _registry.Add(stale);
        stale.FakeHandle.Dispose(); // closed without leaving: a bug, but survivable

        var fresh = new FakeHandler(14) { WantsToSend = true };
        _registry.Add(fresh);

        Assert.Equal(["add 14 Readable", "del 14", "add 14 Writable"], _poller.Calls);
        Assert.Equal(1, _registry.Count);
        Assert.False(_registry.Remove(stale));
        Assert.Contains(_logger.Entries, e => e.EventId == 1002 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public void Add_WhenThePollerRefuses_RegistersNothing()
    {
        _poller.FailNext.Add(15);
        var h = new FakeHandler(15) { WantsToReceive = true };

        Assert.Throws<InvalidOperationException>(() => _registry.Add(h));
        Assert.Equal(0, _registry.Count);
        Assert.False(_registry.Remove(h));
    }

    [Fact]
    public void Add_OfAClosedHandle_IsRefused()
    {
        var h = new FakeHandler(16);
        h.FakeHandle.Dispose();

        Assert.Throws<ArgumentException>(() => _registry.Add(h));
        Assert.Empty(_poller.Calls);
    }

    [Fact]
    public void SyncInterest_CallsTheKernelOnlyForDirtyHandlersWhoseWantsChanged()
    {
        var a = new FakeHandler(20) { WantsToReceive = true };
        var b = new FakeHandler(21) { WantsToReceive = true };
        _registry.Add(a);
        _registry.Add(b);
        _poller.Calls.Clear();

        a.WantsToSend = true;       // changed and marked: modify
        b.WantsToSend = true;       // changed but not marked: nothing yet
        Assert.True(_registry.MarkDirty(a));
        _registry.SyncInterest();
        Assert.Equal(["mod 20 Readable, Writable"], _poller.Calls);

        _poller.Calls.Clear();
        _registry.MarkDirty(a);     // marked, unchanged: nothing
        _registry.SyncInterest();
        Assert.Empty(_poller.Calls);
    }

    [Fact]
    public void SyncInterest_ToNoneRemoves_FromNoneAdds()
    {
        var h = new FakeHandler(22) { WantsToReceive = true };
        _registry.Add(h);
        _poller.Calls.Clear();

        h.WantsToReceive = false;
        _registry.MarkDirty(h);
        _registry.SyncInterest();
        h.WantsToSend = true;
        _registry.MarkDirty(h);
        _registry.SyncInterest();

        Assert.Equal(["del 22", "add 22 Writable"], _poller.Calls);
    }

    [Fact]
    public void SyncInterest_AFailure_GoesToTheFailurePolicy_AndTheRecordIsUnchanged()
    {
        var h = new FakeHandler(23) { WantsToReceive = true };
        _registry.Add(h);
        h.WantsToSend = true;
        _poller.FailNext.Add(23);
        _registry.MarkDirty(h);

        _registry.SyncInterest();

        (IEventHandler failed, Exception error) = Assert.Single(_failures);
        Assert.Same(h, failed);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        _registry.MarkDirty(h); // the kernel still has Readable: trying again sends the same modify
        _registry.SyncInterest();
        Assert.Equal("mod 23 Readable, Writable", _poller.Calls[^1]);
    }

    [Fact]
    public void SyncInterest_AThrowingWantsProperty_GoesToTheFailurePolicy()
    {
        var h = new FakeHandler(24) { WantsToReceive = true };
        _registry.Add(h);
        h.ThrowOnWants = true;
        _registry.MarkDirty(h);

        _registry.SyncInterest();

        Assert.Same(h, Assert.Single(_failures).Handler);
    }

    [Fact]
    public void TryResolve_MasksReadyWithTheRegisteredInterest_ErrorsMeanEveryRegisteredDirection()
    {
        var h = new FakeHandler(30) { WantsToReceive = true };
        _registry.Add(h);
        ulong token = TokenOf(h);

        Assert.False(_registry.TryResolve(new ReadyEvent(token, Interest.Writable, Failed: false), out _, out _)); // not wanted
        Assert.True(_registry.TryResolve(new ReadyEvent(token, Interest.Readable | Interest.Writable, Failed: false), out Registration? reg, out Interest ready));
        Assert.Same(h, reg.Handler);
        Assert.Equal(Interest.Readable, ready);
        Assert.True(_registry.TryResolve(new ReadyEvent(token, Interest.None, Failed: true), out _, out ready));
        Assert.Equal(Interest.Readable, ready);
    }

    [Fact]
    public void AStaleToken_NeverReachesTheSlotsNextOccupant_EvenOnTheSameDescriptor()
    {
        var old = new FakeHandler(31) { WantsToReceive = true };
        _registry.Add(old);
        ulong oldToken = TokenOf(old);
        Assert.True(_registry.Remove(old));

        var next = new FakeHandler(31) { WantsToReceive = true };
        _registry.Add(next);
        ulong newToken = TokenOf(next);

        Assert.Equal((uint)oldToken, (uint)newToken); // the same slot was reused...
        Assert.NotEqual(oldToken, newToken);          // ...under a new generation
        Assert.False(_registry.TryResolve(new ReadyEvent(oldToken, Interest.Readable, Failed: false), out _, out _));
        Assert.True(_registry.TryResolve(new ReadyEvent(newToken, Interest.Readable, Failed: false), out Registration? reg, out _));
        Assert.Same(next, reg.Handler);
    }

    [Fact]
    public void Remove_TellsTheKernelOnlyIfItHeldSomething_AndForgetsTheHandler()
    {
        var wanting = new FakeHandler(40) { WantsToReceive = true };
        var idle = new FakeHandler(41);
        _registry.Add(wanting);
        _registry.Add(idle);
        _poller.Calls.Clear();

        Assert.True(_registry.Remove(wanting));
        Assert.True(_registry.Remove(idle));
        Assert.False(_registry.Remove(idle));
        Assert.False(_registry.MarkDirty(idle));

        Assert.Equal(["del 40"], _poller.Calls);
        Assert.Equal(0, _registry.Count);
        Assert.Empty(_registry.Handlers());
    }

    [Fact]
    public void Internal_HandlersAreNotCounted_NorListed()
    {
        _registry.Add(new FakeHandler(50) { WantsToReceive = true }, isInternal: true);
        var user = new FakeHandler(51);
        _registry.Add(user);

        Assert.Equal(1, _registry.Count);
        Assert.Equal([user], _registry.Handlers());
    }

    [Fact]
    public void ManyHandlers_GrowTheTables_AndEachKeepsItsOwnToken()
    {
        var handlers = Enumerable.Range(100, 3000).Select(fd => new FakeHandler(fd) { WantsToReceive = true }).ToArray();
        foreach (FakeHandler h in handlers)
        {
            _registry.Add(h);
        }

        Assert.Equal(3000, _registry.Count);
        Assert.Equal(3000, handlers.Select(TokenOf).Distinct().Count());
        foreach (FakeHandler h in handlers)
        {
            Assert.True(_registry.TryResolve(new ReadyEvent(TokenOf(h), Interest.Readable, Failed: false), out Registration? reg, out _));
            Assert.Same(h, reg.Handler);
        }
    }

    private ulong TokenOf(FakeHandler handler) => _registry.Find(handler)!.Token;
}
