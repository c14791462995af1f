using System.Runtime.CompilerServices;

namespace Broker;

/// <summary>The pending result of a pool task, Python's <c>AsyncResult</c>, and awaitable as a <see cref="Task{T}"/>.</summary>
/// <remarks>As in Python, the callback runs before the result is ready: once <see cref="Get"/> or <see cref="Wait"/>
/// returns, it has run. A callback that throws makes the result fail with its exception.</remarks>
public sealed class AsyncResult<T>
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<T>? _callback;
    private readonly Action<Exception>? _errorCallback;

    internal AsyncResult(Action<T>? callback, Action<Exception>? errorCallback)
    {
        _callback = callback;
        _errorCallback = errorCallback;
    }

    /// <summary>The result as a task, for <c>await</c> and <c>Task.WhenAll</c>.</summary>
    public Task<T> Task => _completion.Task;

    /// <summary>Lets the result be awaited directly.</summary>
    public TaskAwaiter<T> GetAwaiter() => _completion.Task.GetAwaiter();

    /// <summary>Python's <c>get(timeout=None)</c>: the result, or the task's exception.</summary>
    /// <exception cref="TimeoutException">No result within <paramref name="timeout"/>.</exception>
    /// <exception cref="RemoteTaskException">The task raised in its worker.</exception>
    public T Get(TimeSpan? timeout = null) =>
        Wait(timeout) ? _completion.Task.GetAwaiter().GetResult() : throw new TimeoutException($"The pool task gave no result within {timeout}.");

    /// <summary>Python's <c>wait(timeout=None)</c>: whether the result is ready.</summary>
    public bool Wait(TimeSpan? timeout = null) => Timeouts.Completes(_completion.Task, Timeouts.From(timeout));

    /// <summary>Python's <c>ready()</c>: whether the task has finished, well or not.</summary>
    public bool Ready() => _completion.Task.IsCompleted;

    /// <summary>Python's <c>successful()</c>.</summary>
    /// <exception cref="InvalidOperationException">The result is not ready (Python's ValueError).</exception>
    public bool Successful() =>
        Ready() ? _completion.Task.IsCompletedSuccessfully : throw new InvalidOperationException("The pool task has not finished.");

    internal void Complete(T value)
    {
        try
        {
            _callback?.Invoke(value);
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
            return;
        }
        _completion.TrySetResult(value);
    }

    /// <summary>Ends the wait as cancelled by <paramref name="cancellationToken"/>: the error callback gets the
    /// cancellation, and awaiting throws it. An answer that comes later is dropped.</summary>
    internal void Cancel(CancellationToken cancellationToken) =>
        End(new OperationCanceledException(cancellationToken), () => _completion.TrySetCanceled(cancellationToken));

    internal void Fail(Exception error) => End(error, () => _completion.TrySetException(error));

    /// <summary>Hands <paramref name="error"/> to the error callback, then settles the result; a callback that throws
    /// fails it with both.</summary>
    private void End(Exception error, Action settle)
    {
        try
        {
            _errorCallback?.Invoke(error);
        }
        catch (Exception e)
        {
            _completion.TrySetException(new AggregateException(error, e));
            return;
        }
        settle();
    }
}
