using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace EventIO.Samples.KeyValue;

/// <summary>
/// The data, shared by every connection on every loop (hence a concurrent dictionary), and the app's own
/// metric beside EventIO's: <c>kv.keys</c>, on a meter from the host's <see cref="IMeterFactory"/>.
/// </summary>
public sealed class KeyValueStore
{
    private readonly ConcurrentDictionary<string, string> _data = new(StringComparer.Ordinal);
    private readonly int _maxKeys;

    /// <summary>Made once by DI.</summary>
    public KeyValueStore(IOptions<KeyValueOptions> options, IMeterFactory meters)
    {
        _maxKeys = options.Value.MaxKeys;
        Meter meter = meters.Create("KeyValueServer");
        meter.CreateObservableUpDownCounter("kv.keys", () => _data.Count, "{key}", "Keys in the store.");
    }

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public string? Get(string key) => _data.TryGetValue(key, out string? value) ? value : null;

    /// <summary>Sets <paramref name="key"/>; false when it is new and the store is full.</summary>
    public bool Set(string key, string value)
    {
        if (_data.Count >= _maxKeys && !_data.ContainsKey(key))
        {
            return false;
        }

        _data[key] = value;
        return true;
    }

    /// <summary>Removes <paramref name="key"/>; false if it was not there.</summary>
    public bool Delete(string key) => _data.TryRemove(key, out _);
}
