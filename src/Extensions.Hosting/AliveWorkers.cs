using System.Diagnostics.Metrics;
using Broker.Diagnostics;

namespace Broker.Hosting;

/// <summary>The worker processes alive in each pool this process runs, read from Broker's meter as a collector reads
/// them: the gauge <c>broker.pool.workers</c>, by <c>broker.pool.name</c>.</summary>
internal static class AliveWorkers
{
    public const string InstrumentName = "broker.pool.workers";

    public static Dictionary<string, int> Read()
    {
        var alive = new Dictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listening) =>
            {
                if (instrument is { Meter.Name: BrokerInstrumentation.MeterName, Name: InstrumentName })
                {
                    listening.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "broker.pool.name", Value: string pool })
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
