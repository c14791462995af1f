namespace Broker;

/// <summary>The base of every error Broker raises about a broker, a primitive or a process.</summary>
public class BrokerException : Exception
{
    /// <summary>A failure with its message.</summary>
    public BrokerException(string message) : base(message) { }
    /// <summary>A failure with its message and the exception that caused it.</summary>
    public BrokerException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A broker URL that cannot be used: malformed, or naming a scheme no installed transport serves.
/// The message never repeats a password.</summary>
public sealed class BrokerUrlException(string message) : BrokerException(message);

/// <summary>The broker could not be reached, or the connection to it was lost and could not be restored.</summary>
public sealed class BrokerUnavailableException(string message, Exception? innerException = null)
    : BrokerException(message, innerException);

/// <summary>No transport in the broker URL keeps this primitive correctly; the message names one that does.</summary>
public sealed class PrimitiveNotSupportedException(string message) : BrokerException(message);

/// <summary>Raised by <c>Get</c> when no item came within the timeout (Python's <c>queue.Empty</c>).</summary>
public sealed class QueueEmptyException(string queue)
    : BrokerException($"Queue '{queue}' is empty.")
{
    /// <summary>The queue that was empty.</summary>
    public string Queue { get; } = queue;
}

/// <summary>Raised by <c>Put</c> when the queue stayed at its maxsize for the whole timeout (Python's <c>queue.Full</c>).</summary>
public sealed class QueueFullException(string queue, int maxSize)
    : BrokerException($"Queue '{queue}' is full (maxsize {maxSize}).")
{
    /// <summary>The queue that was full.</summary>
    public string Queue { get; } = queue;
}

/// <summary>Raised by <c>Put</c> for an item larger than the transport that holds the queue carries
/// (<see cref="Queue{T}.MaxItemSize"/>); nothing was sent.</summary>
public sealed class ItemTooLargeException(string queue, long size, long limit)
    : BrokerException($"An item of {size:N0} bytes cannot be put on queue '{queue}': its transport carries items of at most {limit:N0} bytes.")
{
    /// <summary>The queue the item was for.</summary>
    public string Queue { get; } = queue;

    /// <summary>The item's size as serialized, in bytes.</summary>
    public long Size { get; } = size;

    /// <summary>The largest item the queue's transport carries, in bytes.</summary>
    public long Limit { get; } = limit;
}

/// <summary>A queue's handle asks for another maxsize than the queue on the broker was declared with: each handle
/// on a queue names the same maxsize, as the first declaration fixed it.</summary>
public sealed class QueueMaxSizeConflictException(string queue, int requestedMaxSize, string message, Exception? innerException = null)
    : BrokerException(message, innerException)
{
    /// <summary>The queue declared otherwise.</summary>
    public string Queue { get; } = queue;

    /// <summary>The maxsize the handle asked for.</summary>
    public int RequestedMaxSize { get; } = requestedMaxSize;
}

/// <summary>A queue an operation needs is not on the broker: deleted there by hand, or never declared on it.</summary>
public sealed class QueueNotFoundException(string queue, string message, Exception? innerException = null)
    : BrokerException(message, innerException)
{
    /// <summary>The queue that is missing.</summary>
    public string Queue { get; } = queue;
}

/// <summary>A value, queue item or process argument that cannot be turned into a message, or a message that cannot be
/// read back as the expected type.</summary>
public sealed class BrokerSerializationException(string message, Exception? innerException = null)
    : BrokerException(message, innerException);

/// <summary>A lock released by a caller that does not hold it (Python's <c>RuntimeError: release unlocked lock</c>).</summary>
public sealed class LockNotOwnedException(string message) : BrokerException(message);

/// <summary>A <see cref="Barrier"/> that is broken, or broke while the caller waited (Python's
/// <c>threading.BrokenBarrierError</c>): aborted, reset, timed out, its action failed, or a party died waiting.</summary>
public sealed class BrokenBarrierException(string message) : BrokerException(message);

/// <summary>A process that cannot be started: its target cannot run in a child, or no launcher is installed.</summary>
public sealed class ProcessStartException(string message, Exception? innerException = null)
    : BrokerException(message, innerException);
