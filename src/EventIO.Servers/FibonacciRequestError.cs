namespace EventIO.Servers;

/// <summary>Why a Fibonacci request was refused (<see cref="FibonacciRequest.Describe"/> gives the text sent back).</summary>
public enum FibonacciRequestError
{
    /// <summary>The request was valid.</summary>
    None,

    /// <summary>Nothing but whitespace.</summary>
    Empty,

    /// <summary>Longer than <see cref="FibonacciRequest.MaxLength"/> bytes.</summary>
    TooLong,

    /// <summary>Not an ASCII decimal integer.</summary>
    NotANumber,

    /// <summary>Below zero.</summary>
    Negative,

    /// <summary>Above the server's largest n.</summary>
    TooLarge,
}
