namespace EventIO.Cli;

/// <summary>A client failure whose message is shown to the user as is (no stack trace).</summary>
internal sealed class ClientException : Exception
{
    public ClientException()
    {
    }

    public ClientException(string message)
        : base(message)
    {
    }

    public ClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
