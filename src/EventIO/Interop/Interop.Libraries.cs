namespace EventIO.Interop;

/// <summary>Native library names used by the interop declarations.</summary>
internal static partial class Libc
{
    /// <summary>The C library; resolved by the runtime to libc.so.6 on glibc systems.</summary>
    internal const string Name = "libc";
}
