using System.Text.Json;
using Broker.Logging;
using Broker.Processes;
using Broker.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker;

/// <summary>Settings of a <see cref="BrokerContext"/>. A child process gets the settings that matter from its parent,
/// through its environment (see <see cref="FromEnvironment"/>): the broker's URL, the level its logging starts at,
/// the serializer options, when they come from <see cref="SerializerOptionsFactory"/>, and its
/// <see cref="ChildStartup"/>.</summary>
public sealed class BrokerOptions
{
    /// <summary>The environment variable giving the least severe level a process without a logger of its own logs at,
    /// on standard error: <c>BROKER_LOG_LEVEL</c> (<c>Information</c>, <c>Warning</c>, ...). A parent sets it for its
    /// children from its own <see cref="LoggerFactory"/>.</summary>
    public const string LogLevelVariable = "BROKER_LOG_LEVEL";

    /// <summary>The environment variable naming the static method that builds a process's serializer options:
    /// <c>BROKER_SERIALIZER_OPTIONS</c>, set by a parent from its <see cref="SerializerOptionsFactory"/>.</summary>
    public const string SerializerOptionsVariable = "BROKER_SERIALIZER_OPTIONS";

    /// <summary>The environment variable naming the static method every child calls before its target:
    /// <c>BROKER_CHILD_STARTUP</c>, set by a parent from its <see cref="ChildStartup"/>.</summary>
    public const string ChildStartupVariable = "BROKER_CHILD_STARTUP";

    /// <summary>Where Broker and its transports log (connections, retries, dead letters).
    /// The default is <see cref="NullLoggerFactory.Instance"/>.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>How queue items, values passed to processes and process arguments become JSON, in this process only.
    /// The default is <see cref="JsonSerializerDefaults.Web"/>; add a source-generated resolver here for trimmed
    /// applications. Options that children must share come from <see cref="SerializerOptionsFactory"/> instead.</summary>
    public JsonSerializerOptions? SerializerOptions { get; init; }

    /// <summary>A static method (or a lambda that captures nothing) that builds the serializer options: this process
    /// and every child it starts call it, so that they read each other's items alike, as Python's spawn imports the
    /// main module again. Set this or <see cref="SerializerOptions"/>, not both.</summary>
    public Func<JsonSerializerOptions>? SerializerOptionsFactory { get; init; }

    /// <summary>A static method (or a lambda that captures nothing) that every child process, pool workers included,
    /// calls before its target, as the application's own start-up would: to start its telemetry, such as a tracer
    /// provider with Broker's instrumentation and an exporter. The child disposes what it returns as it ends, so that an
    /// exporter sends what it holds. Children of children call it too. A start-up that throws fails the child with
    /// exit code 1 and the error on standard error.</summary>
    public Func<IDisposable?>? ChildStartup { get; init; }

    /// <summary>The clock of every deadline, pause and lease this process keeps: <see cref="TimeProvider.System"/>, or a
    /// fake one in tests. What a server times itself (a Redis lease's end, RabbitMQ's) stays on the server's clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Transport factories given in code, consulted before those the application's packages install (each
    /// package installs its own: a URL in configuration is enough to select it).</summary>
    public IList<ITransportFactory> Transports { get; init; } = [];

    /// <summary>The settings a process gets from its environment, as <see cref="BrokerContext.Default"/> does when
    /// <see cref="BrokerContext.Configure"/> was not called: a logger on standard error at
    /// <see cref="LogLevelVariable"/>'s level, the serializer options of <see cref="SerializerOptionsVariable"/>'s
    /// method, and the start-up <see cref="ChildStartupVariable"/> names.</summary>
    /// <exception cref="BrokerException">A variable is set to something that cannot be read.</exception>
    public static BrokerOptions FromEnvironment()
    {
        var level = Environment.GetEnvironmentVariable(LogLevelVariable);
        var factory = Environment.GetEnvironmentVariable(SerializerOptionsVariable);
        var startup = Environment.GetEnvironmentVariable(ChildStartupVariable);
        return new BrokerOptions
        {
            LoggerFactory = level is { Length: > 0 }
                ? Enum.TryParse<LogLevel>(level, ignoreCase: true, out var minimum) && Enum.IsDefined(minimum)
                    ? minimum == LogLevel.None ? NullLoggerFactory.Instance : new StandardErrorLoggerFactory(minimum)
                    : throw new BrokerException($"{LogLevelVariable}='{level}' is not a log level: use Trace, Debug, Information, Warning, Error, Critical or None.")
                : NullLoggerFactory.Instance,
            SerializerOptionsFactory = factory is { Length: > 0 } ? ReadFactory<JsonSerializerOptions>(SerializerOptionsVariable, factory, "serializer options") : null,
            ChildStartup = startup is { Length: > 0 } ? ReadFactory<IDisposable?>(ChildStartupVariable, startup, "a child's start-up") : null,
        };
    }

    /// <summary>The serializer options this process uses.</summary>
    /// <exception cref="ArgumentException">Both <see cref="SerializerOptions"/> and <see cref="SerializerOptionsFactory"/> are set.</exception>
    internal JsonSerializerOptions? ResolveSerializerOptions() => (SerializerOptions, SerializerOptionsFactory) switch
    {
        (not null, not null) => throw new ArgumentException(
            $"BrokerOptions has both {nameof(SerializerOptions)} and {nameof(SerializerOptionsFactory)}: set one (the factory, for options children share)."),
        (var options, null) => options,
        (null, var factory) => factory(),
    };

    /// <summary>The environment that gives a child these settings and the broker at <paramref name="url"/>.</summary>
    /// <exception cref="ProcessStartException">The serializer options' factory cannot travel to a child.</exception>
    internal IReadOnlyDictionary<string, string> ForChild(string url)
    {
        var environment = new Dictionary<string, string>
        {
            [BrokerContext.UrlVariable] = url,
            [LogLevelVariable] = LeastSevereLevel().ToString(),
        };
        if (SerializerOptionsFactory is { } factory)
        {
            environment[SerializerOptionsVariable] = TargetReference.Of(factory.Method, factory.Target).ToText();
        }
        if (ChildStartup is { } startup)
        {
            environment[ChildStartupVariable] = TargetReference.Of(startup.Method, startup.Target).ToText();
        }
        return environment;
    }

    private LogLevel LeastSevereLevel()
    {
        var logger = LoggerFactory.CreateLogger("Broker");
        for (var level = LogLevel.Trace; level < LogLevel.None; level++)
        {
            if (logger.IsEnabled(level))
            {
                return level;
            }
        }
        return LogLevel.None;
    }

    /// <summary>The method <paramref name="text"/> names, which <paramref name="variable"/> holds and which builds a
    /// <typeparamref name="T"/> (<paramref name="what"/>) from nothing.</summary>
    private static Func<T> ReadFactory<T>(string variable, string text, string what)
    {
        try
        {
            var method = TargetReference.Parse(text).Resolve();
            if (!typeof(T).IsAssignableFrom(method.ReturnType) || method.GetParameters().Length > 0)
            {
                throw new ProcessStartException($"{TargetReference.Describe(method)} does not build {typeof(T).Name} from nothing.");
            }
            var instance = TargetReference.InstanceFor(method);
            return () => (T)method.Invoke(instance, null)!;
        }
        catch (Exception e) when (e is FormatException or ProcessStartException or IOException or TypeLoadException or BadImageFormatException)
        {
            throw new BrokerException($"{variable} names no method that builds {what}: {e.Message}", e);
        }
    }
}
