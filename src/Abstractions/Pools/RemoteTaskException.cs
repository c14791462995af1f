namespace Broker;

/// <summary>A pool task raised an exception in its worker. It carries the remote type, message and stack, as
/// Python's pool re-raises the worker's exception in the caller.</summary>
public sealed class RemoteTaskException : BrokerException
{
    public RemoteTaskException(string remoteType, string remoteMessage, string? remoteStackTrace)
        : base($"{remoteType}: {remoteMessage}")
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>The full name of the exception's type in the worker, such as <c>System.DivideByZeroException</c>.</summary>
    public string RemoteType { get; }

    public string RemoteMessage { get; }

    /// <summary>The stack in the worker, or null when the task never ran (refused, or its worker was lost).</summary>
    public string? RemoteStackTrace { get; }

    public override string ToString() =>
        RemoteStackTrace is null ? base.ToString() : $"{base.ToString()}{Environment.NewLine}--- remote stack ---{Environment.NewLine}{RemoteStackTrace}";
}
