using Microsoft.Extensions.Logging;

namespace Broker.Logging;

/// <summary>What a process that was given only <c>BROKER_LOG_LEVEL</c> logs with (a child, most often): lines on
/// standard error, which a child shares with its parent, in the console logger's simple format.</summary>
internal sealed class StandardErrorLoggerFactory(LogLevel minimum) : ILoggerFactory
{
    /// <summary>The least severe level logged.</summary>
    public LogLevel Minimum { get; } = minimum;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Minimum);

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("Broker's standard-error logger takes no providers: give BrokerOptions a LoggerFactory of your own.");

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var line = $"{Label(logLevel)}: {category}[{eventId.Id}] {formatter(state, exception)}";
            // One call per line: Console.Error is synchronized, so lines from several threads do not interleave.
            Console.Error.WriteLine(exception is null ? line : line + Environment.NewLine + exception);
        }

        private static string Label(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
