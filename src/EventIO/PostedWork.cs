namespace EventIO;

/// <summary>An action posted to the loop from any thread, with its state (no closure needed).</summary>
internal readonly record struct PostedWork(Action<object?> Action, object? State);
