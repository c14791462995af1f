using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Broker.Diagnostics;

/// <summary>Broker's spans and metrics, named after the OpenTelemetry messaging conventions. Nothing here costs more
/// than a check when nobody listens: a span starts only for a listener, and a metric is recorded only when enabled.</summary>
internal static class Telemetry
{
    private static readonly string? s_version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(BrokerInstrumentation.ActivitySourceName, s_version);

    public static readonly Meter Meter = new(BrokerInstrumentation.MeterName, s_version);

    public static readonly Counter<long> Sent = Meter.CreateCounter<long>("messaging.client.sent.messages", "{message}",
        "Items put on queues, and pool tasks sent.");

    public static readonly Counter<long> Consumed = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}",
        "Items taken from queues.");

    public static readonly Counter<long> Redelivered = Meter.CreateCounter<long>("broker.queue.redelivered", "{message}",
        "Items taken again because a consumer that took them ended before marking them done.");

    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("broker.queue.dead_lettered", "{message}",
        "Items set aside in a dead-letter queue, each with its reason.");

    public static readonly Counter<long> TasksStarted = Meter.CreateCounter<long>("broker.pool.tasks.started", "{task}",
        "Pool tasks a worker started.");

    public static readonly Counter<long> TasksCompleted = Meter.CreateCounter<long>("broker.pool.tasks.completed", "{task}",
        "Pool tasks that returned.");

    public static readonly Counter<long> TasksFailed = Meter.CreateCounter<long>("broker.pool.tasks.failed", "{task}",
        "Pool tasks that raised, were refused, or were given up after their workers ended.");

    public static readonly Counter<long> TasksRetried = Meter.CreateCounter<long>("broker.pool.tasks.retried", "{task}",
        "Pool tasks delivered again because the worker that had them ended.");

    public static readonly Histogram<double> TaskDuration = Meter.CreateHistogram<double>("broker.pool.task.duration", "s",
        "How long pool tasks ran in their worker.");

    public const string SendOperation = "send";
    public const string ReceiveOperation = "receive";
    public const string ProcessOperation = "process";
    public const string SettleOperation = "settle";

    /// <summary>Starts the span of an operation on <paramref name="destination"/>, when someone listens: its parent
    /// is <paramref name="parent"/>, or the current activity when that is default, and it may have begun at
    /// <paramref name="start"/> (a get's span starts once its item came, with what it came with).</summary>
    public static Activity? Start(BrokerContext context, string destination, string type, string name, ActivityKind kind,
        ActivityContext parent = default, DateTimeOffset start = default)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var activity = Source.StartActivity($"{type} {destination}", kind, parent, startTime: start);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", context.MessagingSystem);
            activity.SetTag("messaging.destination.name", destination);
            activity.SetTag("messaging.operation.type", type);
            activity.SetTag("messaging.operation.name", name);
        }
        return activity;
    }

    /// <summary>When a span of a get or a task may begin: now, if someone listens.</summary>
    public static DateTimeOffset StartTime(BrokerContext context) =>
        Source.HasListeners() ? context.Options.TimeProvider.GetUtcNow() : default;

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="error"/>; false, so that it serves as an
    /// exception filter that lets the exception go on.</summary>
    public static bool Failed(Activity? activity, Exception error) => Failed(activity, error.GetType().FullName, error.Message);

    /// <summary>Marks <paramref name="activity"/> failed with an error of <paramref name="type"/>, such as a pool task's
    /// in another process; false.</summary>
    public static bool Failed(Activity? activity, string? type, string message)
    {
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, message);
            activity.SetTag("error.type", type);
        }
        return false;
    }

    /// <summary>Adds one to <paramref name="counter"/> for <paramref name="destination"/>, when it is enabled.</summary>
    public static void Count(Counter<long> counter, BrokerContext context, string destination, long count = 1)
    {
        if (counter.Enabled)
        {
            counter.Add(count, Tags(context, destination));
        }
    }

    public static TagList Tags(BrokerContext context, string destination) => new()
    {
        { "messaging.system", context.MessagingSystem },
        { "messaging.destination.name", destination },
    };
}
