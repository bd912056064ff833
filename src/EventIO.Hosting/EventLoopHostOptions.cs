using EventIO.Polling;

namespace EventIO.Hosting;

/// <summary>
/// The event loops of <see cref="EventIOServiceCollectionExtensions.AddEventLoop"/>: bound from the configuration
/// section <c>EventIO</c> (<c>appsettings.json</c>, environment variables such as <c>EventIO__Loops=4</c>) over
/// what code sets, and validated when the host starts.
/// </summary>
public sealed class EventLoopHostOptions
{
    /// <summary>The configuration section the options are bound from: <c>EventIO</c>.</summary>
    public const string SectionName = "EventIO";

    /// <summary>Event loops, one thread each (<c>loop-0</c>, …); every server runs on every loop, sharing its port. 0: one per CPU this process may use (1).</summary>
    public int Loops { get; set; } = 1;

    /// <summary>The readiness backend: <c>Default</c> (epoll), <c>Epoll</c>, <c>Poll</c> or <c>Select</c>.</summary>
    public PollerBackend Backend { get; set; } = PollerBackend.Default;

    /// <summary>Log a handler, timer or posted action that holds a loop longer than this (00:00:00.100).</summary>
    public TimeSpan SlowCallbackThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The number of loops to start: <see cref="Loops"/>, or one per CPU when it is 0.</summary>
    internal int LoopCount => Loops == 0 ? EventLoopGroup.DefaultLoopCount : Loops;
}
