using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Pools;

/// <summary>One pool task, Python's unit of pool work: a chunk of calls to one target, as argument lists or, for a
/// map's items, one argument each (<see cref="Pools.Chunk"/>).</summary>
internal sealed record PoolTask(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("chunk")] RawJson Chunk,
    [property: JsonPropertyName("oneArgumentEach")] bool OneArgumentEach = false,
    [property: JsonPropertyName("traceparent"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null,
    [property: JsonPropertyName("tracestate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceState = null);

/// <summary>One message of a pool's task queue: the tasks one client submitted while its previous message was on its
/// way (see <see cref="Pool"/>), and where to send their results. A message costs a broker far more than a trivial
/// task costs a worker, so tasks travel together when they come faster than messages go; a worker gives back those it
/// could not start soon (<see cref="PoolWorker"/>), so that a batch of slow tasks still spreads over the workers.
/// <see cref="Stop"/> tells the worker that takes it to end. <see cref="EarlierAttempts"/> counts the deliveries of
/// these tasks in earlier messages that ended with their worker: a message delivered again is split, one task per
/// message, and each carries its count on.</summary>
internal sealed record TaskBatch(
    [property: JsonPropertyName("tasks")] IReadOnlyList<PoolTask> Tasks,
    [property: JsonPropertyName("replyTo")] string? ReplyTo,
    [property: JsonPropertyName("maxAttempts")] int MaxAttempts = 1,
    [property: JsonPropertyName("earlierAttempts")] int EarlierAttempts = 0,
    [property: JsonPropertyName("stop")] bool Stop = false)
{
    public static TaskBatch StopWorker { get; } = new([], null, Stop: true);
}

/// <summary>The results of one <see cref="PoolTask"/>, in the order of its chunk, or the error that ended it, with
/// the trace context of the span that ran it (or the task's own, when the worker had no listener).</summary>
internal sealed record PoolResult(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("values")] RawJson? Values,
    [property: JsonPropertyName("error")] RemoteError? Error,
    [property: JsonPropertyName("traceparent"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null,
    [property: JsonPropertyName("tracestate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceState = null);

/// <summary>The results of the tasks of one <see cref="TaskBatch"/> that its worker ran.</summary>
internal sealed record ResultBatch([property: JsonPropertyName("results")] IReadOnlyList<PoolResult> Results);

internal sealed record RemoteError(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("stack")] string? Stack)
{
    public static RemoteError From(Exception e) => new(e.GetType().FullName ?? e.GetType().Name, e.Message, e.StackTrace);

    /// <summary>The exception the caller gets: the worker's refusal as it was, any task's own exception as a
    /// <see cref="RemoteTaskException"/>.</summary>
    public BrokerException ToException() =>
        Type == nameof(PoolTaskRefusedException) ? new PoolTaskRefusedException(Message) : new RemoteTaskException(Type, Message, Stack);
}

/// <summary>How a task names its target (<c>assembly|type|method</c>), and the rule that only methods marked
/// <see cref="PoolTaskAttribute"/> may run. Names and methods are remembered once found: reflection would cost a
/// trivial task more than running it.</summary>
internal static class PoolTargets
{
    private static readonly ConcurrentDictionary<MethodInfo, string> s_names = new();
    private static readonly ConcurrentDictionary<string, MethodInfo> s_methods = new(StringComparer.Ordinal);

    public static string Name(MethodInfo method) => s_names.GetOrAdd(method, static method =>
    {
        Require(method);
        return $"{method.DeclaringType!.Assembly.GetName().Name}|{method.DeclaringType.FullName}|{method.Name}";
    });

    /// <summary>Finds a marked method by name; anything else is refused with the reason.</summary>
    public static MethodInfo Resolve(string name) => s_methods.TryGetValue(name, out var method) ? method : s_methods[name] = Find(name);

    private static MethodInfo Find(string name)
    {
        var parts = name.Split('|');
        if (parts.Length != 3)
        {
            throw new PoolTaskRefusedException($"'{name}' does not name a pool task.");
        }
        Type? type;
        try
        {
            type = Assembly.Load(parts[0]).GetType(parts[1]);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            type = null;
        }
        var method = type?.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .SingleOrDefault(m => m.Name == parts[2] && m.IsDefined(typeof(PoolTaskAttribute)));
        return method ?? throw new PoolTaskRefusedException($"'{name}' is not a [PoolTask] method of this worker program.");
    }

    /// <summary>Refuses a method not marked [PoolTask].</summary>
    public static void Check(MethodInfo method) => Name(method);

    private static void Require(MethodInfo method)
    {
        if (!method.IsStatic || !method.IsDefined(typeof(PoolTaskAttribute)))
        {
            throw new ArgumentException(
                $"{method.DeclaringType?.Name}.{method.Name} is not a static method marked [PoolTask]: a pool runs only those, " +
                "since a task could otherwise name any method of the worker program.", nameof(method));
        }
    }
}
