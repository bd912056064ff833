using System.Reflection;

namespace EventIO;

/// <summary>
/// A readable name for a callback in a diagnostic: <c>Type.Method</c> for a method, <c>Type.Method (lambda)</c> for
/// a lambda written in <c>Type.Method</c>, <c>Type.Method.Local</c> for a local function, instead of the names the
/// compiler gives them (<c>Type+&lt;&gt;c.&lt;Method&gt;b__3_0</c>).
/// </summary>
/// <remarks>
/// <b>Portability:</b> <see cref="Delegate.Method"/> needs the target method's metadata. The JIT always has it;
/// NativeAOT keeps it for delegate targets (checked with this library published with <c>PublishAot</c>: the same
/// names as under the JIT). Where it is missing (<see cref="NotSupportedException"/>), the name comes from the
/// delegate's target object, which still says where a lambda was written, and from the delegate's type for a
/// static method. Only the slow-callback warning calls this, after the fact: no cost on the hot path.
/// </remarks>
internal static class CallbackName
{
    /// <summary>The name of <paramref name="callback"/>: a handler's type, or what a delegate runs.</summary>
    internal static string Of(object callback) => callback is Delegate d ? Of(d) : TypeName(callback.GetType());

    private static string Of(Delegate callback)
    {
        MethodInfo method;
        try
        {
            method = callback.Method;
        }
        catch (NotSupportedException)
        {
            // No metadata: a lambda's target is an instance of the class the compiler made for it.
            return callback.Target is { } target
                ? TypeName(target.GetType()) + (target.GetType() != Written(target.GetType()) ? " (lambda)" : string.Empty)
                : TypeName(callback.GetType());
        }

        string name = MethodName(method.Name);
        return method.DeclaringType is { } type ? $"{TypeName(type)}.{name}" : name;
    }

    private static string TypeName(Type type)
    {
        type = Written(type);
        return type.FullName ?? type.Name;
    }

    // The class the compiler makes for lambdas and local functions (<>c, <>c__DisplayClass3_0) is nested in the
    // type they were written in.
    private static Type Written(Type type)
    {
        while (type.Name.StartsWith('<') && type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    // "<Create>b__3_0" → "Create (lambda)"; "<Run>g__Drain|5_0" → "Run.Drain"; "Tick" → "Tick".
    private static string MethodName(string name)
    {
        if (!name.StartsWith('<'))
        {
            return name;
        }

        int depth = 0;
        int close = -1;
        for (int i = 0; i < name.Length && close < 0; i++)
        {
            depth += name[i] switch { '<' => 1, '>' => -1, _ => 0 };
            if (depth == 0)
            {
                close = i;
            }
        }

        if (close < 0)
        {
            return name;
        }

        string outer = name[1..close];
        string rest = name[(close + 1)..];
        if (rest.StartsWith("g__", StringComparison.Ordinal))
        {
            int bar = rest.IndexOf('|', StringComparison.Ordinal);
            return $"{outer}.{(bar > 3 ? rest[3..bar] : rest[3..])}";
        }

        return outer + " (lambda)";
    }
}
