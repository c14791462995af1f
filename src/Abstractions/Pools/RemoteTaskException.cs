namespace Broker;

/// <summary>A pool task raised an exception in its worker. It carries the remote type, message and stack, as
/// Python's pool re-raises the worker's exception in the caller.</summary>
public sealed class RemoteTaskException : BrokerException
{
    /// <summary>The exception a task raised in a worker, by its type's name, message and stack trace there.</summary>
    public RemoteTaskException(string remoteType, string remoteMessage, string? remoteStackTrace)
        : base($"{remoteType}: {remoteMessage}")
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>The full name of the exception's type in the worker, such as <c>System.DivideByZeroException</c>.</summary>
    public string RemoteType { get; }

    /// <summary>The message of the exception the task raised.</summary>
    public string RemoteMessage { get; }

    /// <summary>The stack in the worker, or null when the task never ran (refused, or its worker was lost).</summary>
    public string? RemoteStackTrace { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        RemoteStackTrace is null ? base.ToString() : $"{base.ToString()}{Environment.NewLine}--- remote stack ---{Environment.NewLine}{RemoteStackTrace}";
}
