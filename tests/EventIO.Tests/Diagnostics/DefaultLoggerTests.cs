using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventIO.Tests.Diagnostics;

/// <summary>With no logger configured, a handler's exception is never silent: it goes to stderr.</summary>
[Collection(StandardErrorDefinition.Name)]
public sealed class DefaultLoggerTests
{
    [Fact]
    public void AThrowingHandler_WithNoLoggerConfigured_IsReportedOnStderr_AndClosed()
    {
        TextWriter original = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            using var loop = new EventLoop();
            using var pair = SocketPair.Create();
            var handler = new PlainHandler(pair.Local);
            loop.Add(handler);
            pair.SendToLocal([1]);

            LoopDriver.RunUntil(loop, () => handler.ReceiveCount == 1);

            Assert.Equal(0, loop.HandlerCount);
        }
        finally
        {
            Console.SetError(original);
        }

        string text = captured.ToString();
        Assert.Contains("eventio: error: Handler PlainHandler threw; it was removed and closed", text, StringComparison.Ordinal);
        Assert.Contains("plain handler failed", text, StringComparison.Ordinal);
    }

    [Fact]
    public void NullLogger_SilencesIt()
    {
        TextWriter original = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            using var loop = new EventLoop(new EventLoopOptions { Logger = NullLogger.Instance });
            using var pair = SocketPair.Create();
            var handler = new PlainHandler(pair.Local);
            loop.Add(handler);
            pair.SendToLocal([1]);
            LoopDriver.RunUntil(loop, () => handler.ReceiveCount == 1);
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.DoesNotContain("PlainHandler", captured.ToString(), StringComparison.Ordinal);
    }
}
