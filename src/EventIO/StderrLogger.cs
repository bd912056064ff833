using Microsoft.Extensions.Logging;

namespace EventIO;

/// <summary>
/// The logger of a loop configured without one: warnings and errors on stderr, so a handler's exception
/// is never silent (as asyncio's last-resort handler). Configure <see cref="EventLoopOptions.Logger"/> to
/// send them elsewhere, or <see cref="Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance"/> to drop them.
/// </summary>
internal sealed class StderrLogger : ILogger
{
    /// <summary>The one instance.</summary>
    internal static readonly StderrLogger Instance = new();

    private StderrLogger()
    {
    }

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string level = logLevel == LogLevel.Warning ? "warning" : "error";
        string text = exception is null
            ? $"eventio: {level}: {formatter(state, exception)}"
            : $"eventio: {level}: {formatter(state, exception)}{Environment.NewLine}{exception}";
        Console.Error.WriteLine(text);
    }
}
