using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Loop;

/// <summary>An <see cref="ILogger"/> that keeps every entry, for asserting what the loop logged. Thread-safe.</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly List<LogEntry> _entries = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var entry = new LogEntry(logLevel, eventId.Id, formatter(state, exception), exception);
        lock (_entries)
        {
            _entries.Add(entry);
        }
    }
}

/// <summary>One logged message.</summary>
internal sealed record LogEntry(LogLevel Level, int EventId, string Message, Exception? Exception);
