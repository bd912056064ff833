using EventIO.Diagnostics;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Metrics;

/// <summary>The worker pool's instruments: queue length, busy workers, completed, failed and rejected items.</summary>
public sealed class WorkerPoolMetricsTests
{
    private static readonly (string, string) s_pool = (EventIOMetrics.WorkerPoolTag, "fib");

    [Fact]
    public void APoolUnderPressure_ShowsBusyQueuedAndRejected_ThenCompletedAndFailed()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1, WorkerPriority.Normal);
        using var gate = new ManualResetEventSlim();
        metrics.Observe(pool, "fib");
        int callbacks = 0;

        Assert.True(loop.Invoke(() => pool.TryRun(() => gate.Wait(TestTimeouts.Passing), _ => callbacks++)));
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.worker_pool.busy_workers", s_pool) == 1);
        Assert.True(loop.Invoke(() => pool.TryRun(() => gate.Wait(TestTimeouts.Passing), _ => callbacks++)));
        Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.worker_pool.queue.length", s_pool));
        Assert.False(loop.Invoke(() => pool.TryRun(() => 0, _ => callbacks++))); // full: busy
        Assert.False(loop.Invoke(() => pool.TryRun(() => 0, _ => callbacks++)));
        Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.worker_pool.rejected_items", s_pool));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.worker_pool.completed_items", s_pool));

        gate.Set();
        Eventually.True(() => loop.Invoke(() => callbacks) == 2);
        Assert.True(loop.Invoke(() => pool.TryRun<int>(() => throw new InvalidOperationException("fails on purpose"), _ => callbacks++)));
        Eventually.True(() => loop.Invoke(() => callbacks) == 3);
        Assert.Equal(3, MetricsProbe.Read(metrics, "eventio.worker_pool.completed_items", s_pool));
        Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.worker_pool.failed_items", s_pool));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.worker_pool.queue.length", s_pool));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.worker_pool.busy_workers", s_pool));
        Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.worker_pool.rejected_items", s_pool));
    }
}
