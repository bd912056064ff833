using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace EventIO.Diagnostics;

/// <summary>The words a trace uses, shared by <see cref="LoopTraceWriter"/> and <see cref="EventIOEventSource"/>.</summary>
internal static class TraceText
{
    private static readonly ConcurrentDictionary<object, string> s_names = new();

    /// <summary><c>R</c>, <c>W</c>, <c>RW</c> or <c>-</c>.</summary>
    internal static string Of(Interest interest) => interest switch
    {
        Interest.Readable => "R",
        Interest.Writable => "W",
        Interest.Readable | Interest.Writable => "RW",
        _ => "-",
    };

    /// <summary>What the kernel is told: <c>add</c>, <c>remove</c> or <c>modify</c>.</summary>
    internal static string Operation(Interest from, Interest to)
        => from == Interest.None ? "add" : to == Interest.None ? "remove" : "modify";

    /// <summary>A wait reason in lower case.</summary>
    internal static string Of(LoopWaitReason reason) => reason switch
    {
        LoopWaitReason.Idle => "idle",
        LoopWaitReason.Timer => "timer",
        LoopWaitReason.Posted => "posted",
        LoopWaitReason.Stop => "stop",
        _ => "limit",
    };

    /// <summary>An io_uring operation's name.</summary>
    internal static string Operation(byte operation) => operation switch
    {
        Polling.RingOperation.Receive => "recv",
        Polling.RingOperation.Send => "send",
        Polling.RingOperation.Accept => "accept",
        Polling.RingOperation.ReceiveMessage => "recvmsg",
        Polling.RingOperation.SendMessage => "sendmsg",
        _ => "op" + operation,
    };

    /// <summary>A handler's type name, or a delegate's <c>Type.Method</c>; cached (a trace names the same few again and again).</summary>
    internal static string Name(object callback)
    {
        object key;
        try
        {
            key = callback is Delegate d ? d.Method : callback.GetType();
        }
        catch (NotSupportedException)
        {
            return CallbackName.Of(callback); // no metadata (NativeAOT): named from the target, not cached
        }

        return s_names.GetOrAdd(key, static (_, c) => c is Delegate d ? WithoutNamespace(d) : ShortName(c.GetType()), callback);
    }

    // "EventIO.Servers.UdpFibonacciServer.Compute (lambda)" → "UdpFibonacciServer.Compute (lambda)"; a lambda kept
    // in a static field ("UdpFibonacciServer..cctor (lambda)") is named by its field: "UdpFibonacciServer.s_respond".
    private static string WithoutNamespace(Delegate callback)
    {
        string name = StaticField(callback) ?? CallbackName.Of(callback);
        string? ns = callback.Method.DeclaringType?.Namespace;
        return ns is not null && name.StartsWith(ns + ".", StringComparison.Ordinal) ? name[(ns.Length + 1)..] : name;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "A nicer name only; without the field's metadata the lambda's name is used.")]
    private static string? StaticField(Delegate callback)
    {
        if (!callback.Method.Name.StartsWith("<.cctor>", StringComparison.Ordinal) || callback.Target?.GetType().DeclaringType is not { } type
            || type.ContainsGenericParameters)
        {
            return null; // a generic type's statics cannot be read without its type arguments
        }

        try
        {
            foreach (FieldInfo field in type.GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                if (field.GetValue(null) is Delegate d && d.Method == callback.Method)
                {
                    return $"{ShortName(type)}.{field.Name}";
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or FieldAccessException or TargetInvocationException)
        {
            // a name is never worth a failure on the loop: the lambda's own name is used
        }

        return null;
    }

    private static string ShortName(Type type) => type.IsGenericType ? type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)] : type.Name;
}
