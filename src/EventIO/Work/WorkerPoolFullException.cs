namespace EventIO.Work;

/// <summary>
/// <see cref="WorkerPool.RunAsync"/> refused the work at once because <see cref="WorkerPool.QueueCapacity"/> items
/// already wait for a worker: answer "busy" instead of letting the queue grow.
/// </summary>
public sealed class WorkerPoolFullException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public WorkerPoolFullException()
        : base("The worker pool's queue is full.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public WorkerPoolFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the exception that caused it.</summary>
    public WorkerPoolFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a queue of <paramref name="capacity"/> items.</summary>
    internal WorkerPoolFullException(int capacity)
        : base($"The worker pool's queue is full ({capacity} items wait for a worker).")
    {
    }
}
