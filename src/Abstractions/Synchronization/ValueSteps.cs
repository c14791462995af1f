using Broker.Transport;

namespace Broker;

/// <summary>What Event, Semaphore, Condition and Barrier do with numbers on the broker: an atomic step taken only
/// while the number allows it, a wait for a counter that only grows, and a count fixed when the object is first made.</summary>
internal static class ValueSteps
{
    /// <summary>Tries <paramref name="attempt"/> until it succeeds or <paramref name="deadline"/> passes, waiting in
    /// between for <paramref name="counter"/>, which only grows, to change, or for <paramref name="look"/> at most
    /// (null: until the deadline).
    /// The counter is read before each try, so that a change between the try and the wait ends the wait at once.</summary>
    public static async ValueTask<bool> TryUntilAsync(this IValueBackend values, string counter, Deadline deadline, TimeSpan? look,
        Func<CancellationToken, ValueTask<bool>> attempt, CancellationToken cancellationToken)
    {
        while (true)
        {
            var seen = await values.GetAsync(counter, ScalarKind.Integer, cancellationToken).ConfigureAwait(false);
            if (await attempt(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
            var pause = look is { } most ? deadline.Pause(most) : deadline.Remaining;
            if (pause == TimeSpan.Zero)
            {
                return false;
            }
            await values.WaitAsync(counter, seen, pause, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Records <paramref name="count"/> as what <paramref name="name"/> was made with, unless it was made
    /// already, and refuses a handle that gives another count.</summary>
    /// <exception cref="ArgumentException">It was made with another count: <paramref name="what"/> names the object
    /// and the count, <paramref name="parameter"/> the argument that gave it.</exception>
    public static async ValueTask EnsureMadeWithAsync(this IValueBackend values, string name, long count, string what, string parameter, CancellationToken cancellationToken)
    {
        await values.InitializeAsync(name, Scalar.FromInteger(count), cancellationToken).ConfigureAwait(false);
        var made = (await values.GetAsync(name, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer;
        if (made != count)
        {
            throw new ArgumentException(string.Format(System.Globalization.CultureInfo.InvariantCulture, what, made, count), parameter);
        }
    }

    /// <summary>Adds <paramref name="step"/> to the integer <paramref name="name"/> holds if <paramref name="allowed"/>
    /// says so of it, retrying while other clients change it first; false once it does not allow the step.</summary>
    public static async ValueTask<bool> TryStepAsync(this IValueBackend values, string name, long step, Func<long, bool> allowed, CancellationToken cancellationToken)
    {
        var current = await values.GetAsync(name, ScalarKind.Integer, cancellationToken).ConfigureAwait(false);
        while (allowed(current.Integer))
        {
            var found = await values.CompareExchangeAsync(name, Scalar.FromInteger(current.Integer + step), current, cancellationToken).ConfigureAwait(false);
            if (found.Integer == current.Integer)
            {
                return true;
            }
            current = found;
        }
        return false;
    }
}
