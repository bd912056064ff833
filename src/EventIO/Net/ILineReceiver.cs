namespace EventIO.Net;

/// <summary>Receives what a <see cref="LineFramer"/> cuts from a byte stream.</summary>
public interface ILineReceiver
{
    /// <summary>
    /// One whole line, without its <c>\n</c> (and without a <c>\r</c> before it). The bytes are lent: use or
    /// copy them before returning.
    /// </summary>
    /// <returns>True to go on with the rest of the data; false to stop feeding (the connection closed, say).</returns>
    bool OnLine(ReadOnlySpan<byte> line);

    /// <summary>A line grew past <see cref="LineFramer.MaxLineLength"/>: it is dropped up to its end, and framing resumes after it.</summary>
    /// <returns>True to go on with the rest of the data; false to stop feeding.</returns>
    bool OnLineTooLong();
}
