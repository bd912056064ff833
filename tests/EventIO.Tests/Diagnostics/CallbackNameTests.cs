using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Tests.Diagnostics;

/// <summary>The names the slow-callback warning gives callbacks: where they were written, not the compiler's names.</summary>
public sealed class CallbackNameTests
{
    private const string Here = "EventIO.Tests.Diagnostics.CallbackNameTests";

    private int _calls;

    [Fact]
    public void StaticMethod_IsTypeDotMethod()
        => Assert.Equal($"{Here}.{nameof(StaticCallback)}", CallbackName.Of((Action)StaticCallback));

    [Fact]
    public void InstanceMethod_IsTypeDotMethod()
        => Assert.Equal($"{Here}.{nameof(InstanceCallback)}", CallbackName.Of((Action)InstanceCallback));

    [Fact]
    public void Lambda_IsTheMethodItWasWrittenIn()
    {
        Action lambda = () => StaticCallback();
        Assert.Equal($"{Here}.{nameof(Lambda_IsTheMethodItWasWrittenIn)} (lambda)", CallbackName.Of(lambda));
    }

    [Fact]
    public void ClosureAndStateLambdas_AreTheMethodTheyWereWrittenIn()
    {
        int captured = 3;
        Action closure = () => _calls += captured;
        Action<object?> withState = static s => ((CallbackNameTests)s!)._calls++;
        Assert.Equal($"{Here}.{nameof(ClosureAndStateLambdas_AreTheMethodTheyWereWrittenIn)} (lambda)", CallbackName.Of(closure));
        Assert.Equal($"{Here}.{nameof(ClosureAndStateLambdas_AreTheMethodTheyWereWrittenIn)} (lambda)", CallbackName.Of(withState));
    }

    [Fact]
    public void LocalFunction_IsMethodDotLocal()
    {
        void Drain() => _calls++;
        Assert.Equal($"{Here}.{nameof(LocalFunction_IsMethodDotLocal)}.{nameof(Drain)}", CallbackName.Of((Action)Drain));
    }

    [Fact]
    public void Handler_IsItsFullTypeName()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Equal(typeof(NamedHandler).FullName, CallbackName.Of(new NamedHandler(socket)));
    }

    private static void StaticCallback()
    {
    }

    private void InstanceCallback() => _calls++;

    private sealed class NamedHandler(Socket socket) : IEventHandler
    {
        public SafeHandle Handle => socket.SafeHandle;

        public bool WantsToReceive => false;

        public bool WantsToSend => false;

        public void HandleReceive()
        {
        }

        public void HandleSend()
        {
        }
    }
}
