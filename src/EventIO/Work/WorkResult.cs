using System.Diagnostics.CodeAnalysis;

namespace EventIO.Work;

/// <summary>The outcome of work run on a <see cref="WorkerPool"/>: its value, or the exception it threw.</summary>
/// <typeparam name="T">The work's result type.</typeparam>
public readonly struct WorkResult<T>
{
    internal WorkResult(T? value, Exception? exception)
    {
        Value = value;
        Exception = exception;
    }

    /// <summary>The value the work returned; default when it failed.</summary>
    public T? Value { get; }

    /// <summary>What the work threw, or <see cref="OperationCanceledException"/> if the pool was shut down before it ran; null on success.</summary>
    public Exception? Exception { get; }

    /// <summary>True when the work returned normally.</summary>
    [MemberNotNullWhen(false, nameof(Exception))]
    public bool IsSuccess => Exception is null;
}
