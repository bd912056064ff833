using EventIO.Diagnostics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EventIO.Tests.Metrics;

/// <summary>Reads the EventIO instruments of one <see cref="EventIOMetrics"/> (its own meter: tests in parallel never see each other's) through <see cref="MetricCollector{T}"/>.</summary>
internal static class MetricsProbe
{
    /// <summary>The current value of an observable <see cref="long"/> instrument, summed over the measurements carrying every tag in <paramref name="tags"/>.</summary>
    public static long Read(EventIOMetrics metrics, string instrument, params (string Key, string Value)[] tags)
    {
        using var collector = new MetricCollector<long>(metrics.Meter, instrument);
        collector.RecordObservableInstruments();
        IReadOnlyList<CollectedMeasurement<long>> measurements = collector.GetMeasurementSnapshot();
        Assert.NotEmpty(measurements);
        return measurements.Where(m => Matches(m.Tags, tags)).Sum(m => m.Value);
    }

    /// <summary>The current value of an observable <see cref="double"/> instrument, summed as <see cref="Read"/>.</summary>
    public static double ReadDouble(EventIOMetrics metrics, string instrument, params (string Key, string Value)[] tags)
    {
        using var collector = new MetricCollector<double>(metrics.Meter, instrument);
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot().Where(m => Matches(m.Tags, tags)).Sum(m => m.Value);
    }

    /// <summary>True when <paramref name="actual"/> holds every one of <paramref name="expected"/>.</summary>
    public static bool Matches(IReadOnlyDictionary<string, object?> actual, (string Key, string Value)[] expected)
        => expected.All(t => actual.TryGetValue(t.Key, out object? v) && Equals(v, t.Value));
}
