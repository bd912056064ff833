namespace EventIO.Diagnostics;

/// <summary>How <see cref="LoopTraceWriter"/> writes a turn.</summary>
public enum LoopTraceFormat
{
    /// <summary>One indented block per turn, for people.</summary>
    Text,

    /// <summary>One JSON object per turn, one per line (JSON Lines), for tools.</summary>
    Json,
}
