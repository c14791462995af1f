namespace Broker.Conformance;

using System.Collections;
using System.Diagnostics;
using Broker;
using OpenTelemetry;
using OpenTelemetry.Trace;

/// <summary>An OpenTelemetry tracer provider with Broker's instrumentation and the in-memory exporter, keeping the
/// spans of the traces a test begins with <see cref="BeginTrace"/>: tests run side by side, and every provider in the
/// process sees every span.</summary>
internal sealed class TraceRecorder : ICollection<Activity>, IDisposable
{
    /// <summary>The source of the spans a test begins its traces with.</summary>
    public static readonly ActivitySource Source = new("Broker.Conformance");

    private readonly System.Threading.Lock _gate = new();
    private readonly HashSet<ActivityTraceId> _traces = [];
    private readonly List<Activity> _spans = [];
    private readonly TracerProvider _provider;

    public TraceRecorder() =>
        _provider = Sdk.CreateTracerProviderBuilder().AddSource(Source.Name).AddBrokerInstrumentation().AddInMemoryExporter(this).Build();

    /// <summary>A context on <paramref name="broker"/>'s broker whose children, pool workers included, record Broker's
    /// spans and metrics from their start-up (<see cref="ChildTracing.Start"/>).</summary>
    public static async Task<BrokerContext> TracedChildrenAsync(BrokerContext broker) =>
        BrokerContext.Connect(await broker.ShareAsync(CancellationToken.None), new BrokerOptions { ChildStartup = ChildTracing.Start });

    /// <summary>Starts a span of the test's own, whose trace this recorder keeps.</summary>
    public Activity BeginTrace(string name)
    {
        var root = Source.StartActivity(name, ActivityKind.Internal) ?? throw new InvalidOperationException("The tracer provider samples nothing.");
        lock (_gate)
        {
            _traces.Add(root.TraceId);
        }
        return root;
    }

    /// <summary>The finished spans of <paramref name="trace"/> named <paramref name="name"/>.</summary>
    public List<Activity> Named(ActivityTraceId trace, string name)
    {
        lock (_gate)
        {
            return _spans.Where(span => span.TraceId == trace && span.DisplayName == name).ToList();
        }
    }

    /// <summary>The one finished span of <paramref name="trace"/> named <paramref name="name"/>, waiting briefly for a
    /// span that another thread ends.</summary>
    public async Task<Activity> SingleAsync(ActivityTraceId trace, string name)
    {
        await Eventually.TrueAsync(() => Task.FromResult(Named(trace, name).Count > 0), $"a span '{name}' in trace {trace}, which has {string.Join(", ", All(trace))}");
        return Assert.Single(Named(trace, name));
    }

    private List<string> All(ActivityTraceId trace)
    {
        lock (_gate)
        {
            return _spans.Where(span => span.TraceId == trace).Select(span => span.DisplayName).ToList();
        }
    }

    public void Add(Activity item)
    {
        lock (_gate)
        {
            if (_traces.Contains(item.TraceId))
            {
                _spans.Add(item);
            }
        }
    }

    public void Dispose() => _provider.Dispose();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public void Clear()
    {
        lock (_gate)
        {
            _spans.Clear();
        }
    }

    public bool Contains(Activity item)
    {
        lock (_gate)
        {
            return _spans.Contains(item);
        }
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_gate)
        {
            _spans.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(Activity item)
    {
        lock (_gate)
        {
            return _spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator()
    {
        lock (_gate)
        {
            return _spans.ToList().GetEnumerator();
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
