namespace EventIO.Cli;

/// <summary>What <c>eventio</c> exits with, for every verb (documented in the README).</summary>
internal static class ExitCodes
{
    /// <summary>It did what was asked (serve: stopped by a signal, gracefully).</summary>
    internal const int Ok = 0;

    /// <summary>
    /// It ran and failed: a port in use, no reply from a server, an <c>error:</c> reply from the Fibonacci
    /// server, a bench run with errors or mismatches, serve or bench on an OS other than Linux.
    /// </summary>
    internal const int Failure = 1;

    /// <summary>The command line is wrong: one line on stderr says what, the next where to look.</summary>
    internal const int Usage = 2;
}
