using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Hostile;

/// <summary>
/// Holds the loop thread inside a posted action until disposed: whatever clients do meanwhile (connect and
/// reset, send and close their port) is waiting in the kernel when the loop next looks. The hold itself has
/// a deadline, so a test that forgets to release cannot hang the loop forever.
/// </summary>
internal sealed class LoopHold : IDisposable
{
    private readonly ManualResetEventSlim _held = new();
    private readonly ManualResetEventSlim _release = new();
    private readonly ManualResetEventSlim _done = new();

    public LoopHold(LoopThread loopThread)
    {
        Assert.True(loopThread.Loop.Post(() =>
        {
            _held.Set();
            _release.Wait(TestTimeouts.Passing);
            _done.Set();
        }));
        Assert.True(_held.Wait(TestTimeouts.Passing), "The loop did not run the hold in time.");
    }

    public void Dispose()
    {
        _release.Set();
        bool done = _done.Wait(TestTimeouts.Passing);
        _held.Dispose();
        _release.Dispose();
        _done.Dispose();
        Assert.True(done, "The loop did not leave the hold in time.");
    }
}
