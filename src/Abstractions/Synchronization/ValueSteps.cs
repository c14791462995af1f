using Broker.Transport;

namespace Broker;

/// <summary>An atomic step of a number on the broker, taken only while the number allows it: the compare-and-swap
/// loop that Event, Semaphore and Condition share.</summary>
internal static class ValueSteps
{
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
