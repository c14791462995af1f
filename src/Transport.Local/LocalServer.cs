using System.Collections.Concurrent;
using System.Net.Sockets;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Transport.Local;

/// <summary>Serves the <see cref="LocalBroker"/> to child processes on a Unix-domain socket. Each connection is one
/// <see cref="LocalSession"/>: when the child dies, the kernel closes its socket, and the session gives back its
/// locks and unacknowledged items at once.</summary>
internal sealed class LocalServer : IAsyncDisposable
{
    private readonly LocalBroker _broker;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _accepting;

    public LocalServer(LocalBroker broker, string socketPath, ILogger logger)
    {
        _broker = broker;
        _logger = logger;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(512);
        _accepting = AcceptLoopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        await Task.WhenAll(_connections.Keys).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var serving = ServeAsync(client);
            _connections.TryAdd(serving, 0);
            _ = serving.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _),
                _connections, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var session = _broker.OpenSession();
        var connection = new FrameConnection(client);
        var dispatcher = new Dispatcher(session, connection);
        session.Client = dispatcher;
        using var stopping = _stopping.Token.UnsafeRegister(static c => ((FrameConnection)c!).DisposeAsync(), connection);
        try
        {
            await connection.StartReading(dispatcher.Handle, "Broker local server connection").ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        catch (InvalidDataException e)
        {
            _logger.LogWarning("Closed a local broker connection that sent a malformed frame: {Reason}", e.Message);
        }
        finally
        {
            session.Close();
            dispatcher.CancelAll();
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Decodes requests, runs them on the session, and sends each result when it is ready.</summary>
    private sealed class Dispatcher(LocalSession session, FrameConnection connection) : IPrefetchClient
    {
        private readonly ConcurrentDictionary<int, CancellationTokenSource> _waiting = new();

        public void Handle(int id, byte code, ReadOnlySpan<byte> payload)
        {
            var args = new FrameReader(payload);
            try
            {
                switch ((Op)code)
                {
                    case Op.Declare:
                        Reply(id, session.DeclareAsync(args.String(), args.Int32(), default));
                        break;
                    case Op.Put:
                    {
                        var queue = args.String();
                        var timeout = args.Timeout();
                        var body = args.Bytes().ToArray();
                        if (id == Wire.Unanswered)
                        {
                            Accept(queue, session.PutOwnedAsync(queue, body, timeout, default));
                            break;
                        }
                        Reply(id, session.PutOwnedAsync(queue, body, timeout, Waiting(id, timeout)), static (ref w, ok) => w.Byte(ok ? (byte)1 : (byte)0));
                        break;
                    }
                    case Op.Get:
                    {
                        var queue = args.String();
                        var acknowledge = args.Byte() == 1;
                        var timeout = args.Timeout();
                        var prefetch = args.Int32();
                        session.Consumed(args.Int64s());
                        Reply(id, session.GetAsync(queue, acknowledge, timeout, prefetch, Waiting(id, timeout)), static (ref w, delivery) =>
                        {
                            if (delivery is LocalDelivery item)
                            {
                                w.Byte(1);
                                w.Int64(item.Id);
                                w.Int32(item.Attempt);
                                w.Bytes(item.Body.Span);
                            }
                            else
                            {
                                w.Byte(0);
                            }
                        });
                        break;
                    }
                    case Op.Ack:
                        Acknowledge(args.Int64());
                        break;
                    case Op.Consumed:
                        session.Consumed(args.Int64s());
                        break;
                    case Op.GaveBack:
                        session.GaveBack(args.String(), args.Int64s(), args.Int64s());
                        break;
                    case Op.Count:
                    {
                        var queue = args.String();
                        session.Consumed(args.Int64s());
                        Reply(id, session.CountAsync(queue, default), static (ref w, count) => w.Int64(count));
                        break;
                    }
                    case Op.Join:
                    {
                        var queue = args.String();
                        var timeout = args.Timeout();
                        Reply(id, session.JoinAsync(queue, timeout, Waiting(id, timeout)), static (ref w, ok) => w.Byte(ok ? (byte)1 : (byte)0));
                        break;
                    }
                    case Op.Slot:
                        Reply(id, session.SlotAsync(args.String(), (SlotUse)args.Byte(), args.Scalar(), default), static (ref w, grant) =>
                        {
                            w.Int32(grant.Index);
                            w.Byte((byte)grant.Kind);
                            w.Int32(grant.Session);
                        });
                        break;
                    case Op.Watch:
                    {
                        var index = args.Int32();
                        var seen = args.Int64();
                        var timeout = args.Timeout();
                        Reply(id, session.WatchAsync(index, seen, timeout, Waiting(id, timeout)), static (ref w, changed) => w.Byte(changed ? (byte)1 : (byte)0));
                        break;
                    }
                    case Op.Notify:
                        session.NotifyAsync(args.Int32(), default);
                        break;
                    case Op.Collection:
                        Reply(id, new ValueTask<byte[]>(session.Broker.Collections.Run(args.Bytes().ToArray())), static (ref w, result) => w.Bytes(result));
                        break;
                    case Op.Inspect:
                        Reply(id, new ValueTask<byte[]>(InspectionCalls.Run(session.Broker, args.Bytes().ToArray())), static (ref w, result) => w.Bytes(result));
                        break;
                    case Op.Flush:
                        Reply(id, default(ValueTask));
                        break;
                    case Op.Cancel:
                        if (_waiting.TryGetValue(id, out var waiting))
                        {
                            waiting.Cancel();
                        }
                        break;
                    default:
                        throw new InvalidDataException($"Operation {code} is not a local broker operation.");
                }
            }
            catch (Exception e) when (e is not InvalidDataException)
            {
                Fail(id, e);
            }
        }

        /// <summary>A put is unanswered only on a queue its client declared unbounded, where nothing refuses it; one
        /// that does not go in at once is a broken client.</summary>
        private static void Accept(string queue, ValueTask<bool> put)
        {
            if (!put.IsCompletedSuccessfully || !put.Result)
            {
                throw new InvalidDataException($"The client sent a put to queue '{queue}' without waiting for room, which that queue does not always have.");
            }
        }

        /// <summary>An acknowledgement is unanswered, so one the session refuses is a broken client: its connection
        /// closes, and what it took is delivered again.</summary>
        private void Acknowledge(long deliveryId)
        {
            try
            {
                session.AckAsync(deliveryId);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidDataException(e.Message, e);
            }
        }

        public void Prefetched(string queue, bool acknowledge, IReadOnlyList<LocalDelivery> items)
        {
            var frame = new FrameWriter(Wire.Unanswered, (byte)Status.Prefetched, items.Sum(item => item.Body.Length + 16) + queue.Length * 3 + 16);
            frame.String(queue);
            frame.Byte(acknowledge ? (byte)1 : (byte)0);
            frame.Int32(items.Count);
            foreach (var item in items)
            {
                frame.Int64(item.Id);
                frame.Int32(item.Attempt);
                frame.Bytes(item.Body.Span);
            }
            connection.Send(frame.Finish());
        }

        public void Recall(string queue)
        {
            var frame = new FrameWriter(Wire.Unanswered, (byte)Status.Recall);
            frame.String(queue);
            connection.Send(frame.Finish());
        }

        public void CancelAll()
        {
            foreach (var waiting in _waiting.Values)
            {
                waiting.Cancel();
            }
        }

        private CancellationToken Waiting(int id, TimeSpan timeout)
        {
            if (timeout == TimeSpan.Zero)
            {
                return CancellationToken.None;
            }
            var source = new CancellationTokenSource();
            _waiting[id] = source;
            return source.Token;
        }

        private void Reply(int id, ValueTask operation) =>
            Reply(id, Completed(operation), static (ref _, _) => { });

        private static async ValueTask<bool> Completed(ValueTask operation)
        {
            await operation.ConfigureAwait(false);
            return true;
        }

        private void Reply<T>(int id, ValueTask<T> operation, Encoder<T> encode)
        {
            if (operation.IsCompletedSuccessfully)
            {
                Succeed(id, operation.Result, encode);
                return;
            }
            _ = ReplyLaterAsync(id, operation, encode);
        }

        private async Task ReplyLaterAsync<T>(int id, ValueTask<T> operation, Encoder<T> encode)
        {
            try
            {
                Succeed(id, await operation.ConfigureAwait(false), encode);
            }
            catch (Exception e)
            {
                Fail(id, e);
            }
        }

        private void Succeed<T>(int id, T result, Encoder<T> encode)
        {
            Forget(id);
            var frame = new FrameWriter(id, (byte)Status.Ok);
            encode(ref frame, result);
            connection.Send(frame.Finish());
        }

        private void Fail(int id, Exception error)
        {
            Forget(id);
            if (error is OperationCanceledException)
            {
                connection.Send(new FrameWriter(id, (byte)Status.Cancelled).Finish());
                return;
            }
            var frame = new FrameWriter(id, (byte)Status.Failed);
            frame.Byte((byte)(error switch
            {
                InvalidOperationException or ObjectDisposedException => Failure.InvalidOperation,
                ArgumentException => Failure.Argument,
                BrokerUnavailableException => Failure.Unavailable,
                QueueMaxSizeConflictException => Failure.MaxSizeConflict,
                _ => Failure.Broker,
            }));
            frame.String(error.Message);
            if (error is QueueMaxSizeConflictException conflict)
            {
                frame.String(conflict.Queue);
                frame.Int32(conflict.RequestedMaxSize);
            }
            connection.Send(frame.Finish());
        }

        private void Forget(int id)
        {
            if (_waiting.TryRemove(id, out var source))
            {
                source.Dispose();
            }
        }
    }
}

internal delegate void Encoder<in T>(ref FrameWriter writer, T value);
