using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Values and array elements: numbers kept as invariant text, changed by atomic commands and scripts.
internal sealed partial class RedisTransport
{
    public async ValueTask InitializeAsync(string name, Scalar initial, CancellationToken cancellationToken) =>
        await RunAsync(static (db, s) => db.StringSetAsync(s.Key, s.Value, when: When.NotExists), (Key: _keys.Value(name), Value: (RedisValue)initial.ToString()), cancellationToken).ConfigureAwait(false);

    public async ValueTask<Scalar> GetAsync(string name, ScalarKind kind, CancellationToken cancellationToken)
    {
        var text = await RunAsync(static (db, key) => db.StringGetAsync(key), _keys.Value(name), cancellationToken).ConfigureAwait(false);
        return text.IsNull ? Scalar.Zero(kind) : Scalar.Parse(text!, kind);
    }

    public async ValueTask SetAsync(string name, Scalar value, CancellationToken cancellationToken) =>
        await RunAsync(static (db, s) => db.StringSetAsync(s.Key, s.Value), (Key: _keys.Value(name), Value: (RedisValue)value.ToString()), cancellationToken).ConfigureAwait(false);

    public async ValueTask<Scalar> AddAsync(string name, Scalar delta, CancellationToken cancellationToken) =>
        delta.Kind == ScalarKind.Integer
            ? Scalar.FromInteger(await RunAsync(static (db, s) => db.StringIncrementAsync(s.Key, s.Delta), (Key: _keys.Value(name), Delta: delta.Integer), cancellationToken).ConfigureAwait(false))
            : Scalar.FromFloat(await RunAsync(static (db, s) => db.StringIncrementAsync(s.Key, s.Delta), (Key: _keys.Value(name), Delta: delta.Float), cancellationToken).ConfigureAwait(false));

    public async ValueTask<Scalar> CompareExchangeAsync(string name, Scalar value, Scalar comparand, CancellationToken cancellationToken)
    {
        var found = await EvaluateAsync(RedisScripts.CompareExchange, [_keys.Value(name)],
            [value.ToString(), comparand.ToString(), value.Kind == ScalarKind.Integer ? "i" : "f"], cancellationToken).ConfigureAwait(false);
        return Scalar.Parse((string)found!, value.Kind);
    }

    public async ValueTask<Scalar> WaitAsync(string name, Scalar seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var found = seen;
        await WaitAsync(_keys.ValueChanged(name), timeout, async ct =>
        {
            found = await GetAsync(name, seen.Kind, ct).ConfigureAwait(false);
            return !found.NumericallyEquals(seen);
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    public async ValueTask NotifyAsync(string name, CancellationToken cancellationToken) =>
        await RunAsync(static (db, channel) => db.PublishAsync(RedisChannel.Literal(channel), RedisValue.EmptyString), _keys.ValueChanged(name), cancellationToken).ConfigureAwait(false);
}
