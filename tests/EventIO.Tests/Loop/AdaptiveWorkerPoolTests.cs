using System.Runtime.InteropServices;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Loop;

/// <summary>
/// <see cref="WorkerPriority.Adaptive"/> in process: where an item runs, where a worker waits, and an item
/// that a normal-priority thread on its CPU would starve is promoted.
/// </summary>
public sealed class AdaptiveWorkerPoolTests
{
    [Fact]
    public async Task AnItemRunsUnderSchedIdle_AndItsWorkerWaitsForTheNextAtTheNormalPolicy()
    {
        using var loopThread = new LoopThread();
        // A one-second sample: on a loaded test machine the governor would rightly promote a starved item.
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1, WorkerPriority.Adaptive, new AdaptiveWorkerPolicy { SampleInterval = TimeSpan.FromSeconds(1) });
        using (var byDefault = new WorkerPool(workerCount: 1))
        {
            Assert.Equal(WorkerPriority.Adaptive, byDefault.Priority);
        }

        var done = new TaskCompletionSource<WorkResult<(int Tid, int Policy)>>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(loopThread.Invoke(() => pool.TryRun(() => (OwnThreadId(), ReadScheduling("thread-self").Policy), r => done.SetResult(r))));
        WorkResult<(int Tid, int Policy)> result = await done.Task.DefaultTimeout();
        Assert.True(result.IsSuccess, result.Exception?.ToString());

        // With the privilege to come back (root here), the item runs idle; without it, it starts normal.
        Assert.Equal(pool.PromotionRefused ? 0 : 5, result.Value.Policy);
        Eventually.True(() => ReadScheduling($"self/task/{result.Value.Tid}").Policy == 0 || pool.RetiredWorkers == 1, because: "the worker waits at SCHED_OTHER");
        Assert.Equal(0, pool.Promotions);
    }

    [Fact]
    public async Task AnItemStarvedByANormalThreadOnItsCpu_IsPromoted_AndFinishes()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1, WorkerPriority.Adaptive, new AdaptiveWorkerPolicy { MaxPromoted = 1 });
        using var stop = new CancellationTokenSource();
        int cpu = Environment.ProcessorCount - 1;
        var hog = new Thread(() =>
        {
            PinCallingThread(cpu);
            while (!stop.IsCancellationRequested)
            {
            }
        }) { IsBackground = true, Name = "test-cpu-hog" };
        hog.Start();
        try
        {
            var done = new TaskCompletionSource<WorkResult<int>>(TaskCreationOptions.RunContinuationsAsynchronously);

            // 100 ms of CPU on the hog's CPU: under SCHED_IDLE alone that takes tens of seconds (about 0.3 % of it).
            Assert.True(loopThread.Invoke(() => pool.TryRun(
                () =>
                {
                    PinCallingThread(cpu);
                    TimeSpan start = ThreadCpuTime();
                    while (ThreadCpuTime() - start < TimeSpan.FromMilliseconds(100))
                    {
                    }

                    return ReadScheduling("thread-self").Policy;
                },
                r => done.SetResult(r))));
            WorkResult<int> result = await done.Task.DefaultTimeout();
            Assert.True(result.IsSuccess, result.Exception?.ToString());
            if (pool.PromotionRefused)
            {
                Assert.Equal(0, result.Value); // without privilege the item started at the normal policy
            }
            else
            {
                Assert.Equal(0, result.Value); // promoted: it finished under SCHED_OTHER
                Assert.True(pool.Promotions >= 1);
            }
        }
        finally
        {
            stop.Cancel();
            hog.Join();
        }
    }

    [Fact]
    public async Task AnItemThatBlocks_IsNotMistakenForAStarvedOne()
    {
        // A blocked item uses no CPU, as a starved one does; but it is not waiting for a CPU, and promoting it
        // would open the start-promoted window for the items after it. On a loaded test machine the item may
        // really be starved before it blocks, or after it is released, and rightly promoted then: only the
        // window in which it is certainly blocked counts.
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1, WorkerPriority.Adaptive);
        using var blocked = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var done = new TaskCompletionSource<WorkResult<bool>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(loopThread.Invoke(() => pool.TryRun(
            () =>
            {
                blocked.Set();
                return release.Wait(TestTimeouts.Passing);
            },
            r => done.SetResult(r))));
        Assert.True(blocked.Wait(TestTimeouts.Passing));
        Thread.Sleep(50); // past the item's few runnable microseconds before it blocks
        long before = pool.Promotions;
        Thread.Sleep(300); // a measurement window of 60 samples in which the item is blocked throughout
        long during = pool.Promotions - before;
        release.Set();
        WorkResult<bool> result = await done.Task.DefaultTimeout();
        Assert.True(result.IsSuccess && result.Value, result.Exception?.ToString());
        Assert.Equal(0, during);
    }

    private static int OwnThreadId() => int.Parse(Path.GetFileName(Directory.ResolveLinkTarget("/proc/thread-self", false)!.FullName), System.Globalization.CultureInfo.InvariantCulture);

    // /proc/PATH/stat: field 19 is the nice value, field 41 the policy.
    private static (int Nice, int Policy) ReadScheduling(string path)
    {
        string stat = File.ReadAllText($"/proc/{path}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static TimeSpan ThreadCpuTime()
    {
        string[] fields = File.ReadAllText("/proc/thread-self/schedstat").Split(' ');
        return TimeSpan.FromTicks(long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture) / 100);
    }

    private static unsafe void PinCallingThread(int cpu)
    {
        ulong mask = 1UL << cpu;
        Assert.Equal(0, sched_setaffinity(0, sizeof(ulong), &mask));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int sched_setaffinity(int pid, nuint size, ulong* mask);
}
