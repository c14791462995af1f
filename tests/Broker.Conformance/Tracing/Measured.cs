namespace Broker.Conformance;

using OpenTelemetry.Metrics;

/// <summary>Reads what the in-memory exporter exported, for one queue: tests run side by side, and a meter provider
/// sees every queue's measurements.</summary>
internal static class Measured
{
    /// <summary>The last exported total of the metric <paramref name="name"/> for <paramref name="queue"/>: a sum, a
    /// gauge's value, or a histogram's count; 0 when nothing was measured.</summary>
    public static long Total(IReadOnlyList<MetricSnapshot> exported, string name, string queue)
    {
        var last = exported.LastOrDefault(metric => metric.Name == name);
        if (last is null)
        {
            return 0;
        }
        long total = 0;
        foreach (var point in last.MetricPoints)
        {
            if (!Names(point, queue))
            {
                continue;
            }
            total += last.MetricType switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                MetricType.LongGauge => point.GetGaugeLastValueLong(),
                MetricType.Histogram => point.GetHistogramCount(),
                var type => throw new InvalidOperationException($"{name} is a {type}, which this test does not read."),
            };
        }
        return total;
    }

    private static bool Names(MetricPoint point, string queue)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key is "messaging.destination.name" or "broker.pool.name" && Equals(tag.Value, queue))
            {
                return true;
            }
        }
        return false;
    }
}
