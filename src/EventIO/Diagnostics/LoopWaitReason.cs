namespace EventIO.Diagnostics;

/// <summary>Why a turn's wait got the timeout it did (<see cref="LoopTracer.Waiting"/>).</summary>
public enum LoopWaitReason
{
    /// <summary>Nothing is due: no timer, nothing posted; the loop sleeps until the kernel reports something.</summary>
    Idle,

    /// <summary>The earliest timer is due after the timeout.</summary>
    Timer,

    /// <summary>Actions are posted (a worker-pool completion among them, say): the wait only polls (0 ms).</summary>
    Posted,

    /// <summary>A stop is requested: the wait only polls (0 ms).</summary>
    Stop,

    /// <summary>The limit given to <see cref="EventLoop.RunOnce"/> comes first.</summary>
    Limit,
}
