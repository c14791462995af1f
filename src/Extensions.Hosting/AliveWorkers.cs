using System.Diagnostics.Metrics;
using Broker.Diagnostics;

namespace Broker.Hosting;

/// <summary>The worker processes alive in each pool this process runs, read from Broker's meter as a collector reads
/// them: the gauge <see cref="BrokerInstrumentation.PoolWorkersMetric"/>, by <see cref="BrokerInstrumentation.PoolNameTag"/>.</summary>
internal static class AliveWorkers
{
    public static Dictionary<string, int> Read()
    {
        var alive = new Dictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listening) =>
            {
                if (instrument is { Meter.Name: BrokerInstrumentation.MeterName, Name: BrokerInstrumentation.PoolWorkersMetric })
                {
                    listening.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: BrokerInstrumentation.PoolNameTag, Value: string pool })
                {
                    alive[pool] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return alive;
    }
}
