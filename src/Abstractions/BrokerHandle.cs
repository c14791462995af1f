using System.Reflection;
using System.Text.Json.Serialization;

namespace Broker;

/// <summary>A shared object that lives on a broker: a queue, lock, value or array. Handles are cheap; passing one to
/// a child process passes its name, and the child reaches the same object.</summary>
public abstract class BrokerHandle
{
    private readonly Func<CancellationToken, Task>? _create;
    private Task? _created;

    private protected BrokerHandle(BrokerContext? broker, string? name, string kind, bool create)
    {
        Context = broker ?? BrokerContext.Default;
        Name = name is null ? $"{kind}-{Guid.NewGuid():N}" : BrokerNames.Validate(name, kind);
        if (create)
        {
            _create = CreateAsync;
        }
        else
        {
            _created = Task.CompletedTask;
        }
    }

    /// <summary>The object's name on the broker.</summary>
    public string Name { get; }

    /// <summary>The broker the object lives on.</summary>
    public BrokerContext Context { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}({Name})";

    internal abstract HandleDescriptor Describe();

    /// <summary>Creates the object on the broker (declares the queue, sets the initial value).</summary>
    private protected virtual Task CreateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether the object exists on the broker, as far as this handle knows.</summary>
    internal bool IsCreated => Volatile.Read(ref _created) is { IsCompletedSuccessfully: true };

    /// <summary>Runs <see cref="CreateAsync"/> once, before first use or before the handle is shared.</summary>
    internal ValueTask EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        var created = Volatile.Read(ref _created);
        return created is { IsCompletedSuccessfully: true } ? default : new ValueTask(CreateOnceAsync(cancellationToken));
    }

    private Task CreateOnceAsync(CancellationToken cancellationToken)
    {
        Task created;
        lock (_create!)
        {
            if (_created is null || _created.IsFaulted || _created.IsCanceled)
            {
                _created = _create(CancellationToken.None);
            }
            created = _created;
        }
        return created.WaitAsync(cancellationToken);
    }

    internal static BrokerHandle Attach(Type handleType, BrokerContext context, HandleDescriptor descriptor)
    {
        var attach = handleType.GetMethod("Attach", BindingFlags.Static | BindingFlags.NonPublic, [typeof(BrokerContext), typeof(HandleDescriptor)])
            ?? throw new InvalidOperationException($"{handleType} cannot be passed to another process.");
        return (BrokerHandle)attach.Invoke(null, [context, descriptor])!;
    }
}

/// <summary>What crosses a process boundary for a handle: its kind, name and size, the lock a value or array
/// hands out when it is not its own (see HandleLock), and a barrier's default timeout.</summary>
internal sealed record HandleDescriptor(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] int Size = 0,
    [property: JsonPropertyName("lock"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Lock = null,
    [property: JsonPropertyName("timeout"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TimeSpan? Timeout = null);

/// <summary>The names every transport accepts, checked once here so that a program that runs on one broker runs on all.</summary>
internal static class BrokerNames
{
    public const int MaxLength = 200;

    public static string Validate(string name, string kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        var ok = name.Length is > 0 and <= MaxLength
            && char.IsAsciiLetterOrDigit(name[0])
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':');
        return ok
            ? name
            : throw new ArgumentException(
                $"The {kind} name '{name}' cannot be used: a name has 1 to {MaxLength} ASCII letters, digits, '.', '_', '-' or ':', and starts with a letter or digit.",
                nameof(name));
    }
}

/// <summary>Blocking twins of the async operations, for code written the way Python's is.</summary>
internal static class Sync
{
    /// <summary>Set while a child process shuts down, after its foreground threads ended: a call blocked in a background
    /// thread that the broker's closing ends then stays blocked until the process is gone, as Python stops its daemon
    /// threads at exit, rather than raise in a thread nobody watches and abort the exiting process.</summary>
    internal static volatile bool ProcessExiting;

    public static void Run(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }
        try
        {
            task.AsTask().GetAwaiter().GetResult();
        }
        catch when (ProcessExiting)
        {
            Thread.Sleep(Timeout.Infinite);
        }
    }

    public static T Run<T>(ValueTask<T> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return task.Result;
        }
        try
        {
            return task.AsTask().GetAwaiter().GetResult();
        }
        catch when (ProcessExiting)
        {
            Thread.Sleep(Timeout.Infinite);
            throw;
        }
    }
}

internal static class Timeouts
{
    /// <summary>Python's <c>timeout=None</c> waits for ever; a negative timeout is a mistake, not "for ever".</summary>
    public static TimeSpan From(TimeSpan? timeout) => timeout switch
    {
        null => Timeout.InfiniteTimeSpan,
        { } t when t == Timeout.InfiniteTimeSpan || t >= TimeSpan.Zero => t,
        { } t => throw new ArgumentOutOfRangeException(nameof(timeout), t, "A timeout is zero or more, or null to wait without limit."),
    };

    public static TimeSpan From(bool block, TimeSpan? timeout) => block ? From(timeout) : TimeSpan.Zero;

    /// <summary>Whether <paramref name="task"/> completes, well or not, within <paramref name="timeout"/>: Python's
    /// <c>wait(timeout)</c> on a result, which says nothing of how it ended.</summary>
    public static bool Completes(Task task, TimeSpan timeout)
    {
        try
        {
            return task.Wait(timeout);
        }
        catch (AggregateException)
        {
            return true;
        }
    }
}
