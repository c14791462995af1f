using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

// Inspection: AMQP cannot list queues, so their names come from the management API (the rabbitmq_management plugin);
// the counts come over AMQP, exact at the moment asked, where the management API's statistics lag by seconds.
internal sealed partial class RabbitMqTransport : IQueueInspection
{
    /// <summary>The prefix of the queues this transport keeps for itself: counts, markers, locks.</summary>
    private const string OwnPrefix = "broker.";

    private readonly Lazy<HttpClient> _management;

    public IQueueInspection Inspection => this;

    public async ValueTask<IReadOnlyList<QueueCounts>> ListAsync(CancellationToken cancellationToken)
    {
        var names = await ManagedQueueNamesAsync(cancellationToken).ConfigureAwait(false);
        var counted = names.Where(n => n.StartsWith(OwnPrefix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var counts = new List<QueueCounts>();
        foreach (var name in names.Where(n => !n.StartsWith(OwnPrefix, StringComparison.Ordinal) && !n.StartsWith("amq.", StringComparison.Ordinal)))
        {
            if (await DeclaredCountsAsync(name, cancellationToken).ConfigureAwait(false) is not { } declared)
            {
                continue; // deleted since the names were read
            }
            long? unfinished = counted.Contains(CounterQueue(name)) ? await UnfinishedAsync(name, cancellationToken).ConfigureAwait(false) : null;
            counts.Add(new QueueCounts(name, declared.MessageCount, unfinished, (int)declared.ConsumerCount));
        }
        return counts;
    }

    /// <summary>Takes the oldest messages without acknowledging them and closes the channel, which gives them back in
    /// their places; RabbitMQ marks them redelivered, so each counts one delivery more.</summary>
    public async ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>> PeekAsync(string queue, int most, CancellationToken cancellationToken) =>
        await RunAsync(async (session, ct) =>
        {
            await using var channel = await session.Connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
            var items = new List<ReadOnlyMemory<byte>>();
            try
            {
                while (items.Count < most && await channel.BasicGetAsync(queue, autoAck: false, ct).ConfigureAwait(false) is { } got)
                {
                    items.Add(got.Body.ToArray());
                }
            }
            catch (OperationInterruptedException e) when (ReplyCode(e) == 404)
            {
                throw new QueueNotFoundException(queue, $"Queue '{queue}' does not exist on RabbitMQ at {_url.Display}.", e);
            }
            await channel.CloseAsync(ct).ConfigureAwait(false);
            return (IReadOnlyList<ReadOnlyMemory<byte>>)items;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The count of waiting messages and of consumers, or <c>null</c> for a queue that no longer exists.</summary>
    private Task<QueueDeclareOk?> DeclaredCountsAsync(string queue, CancellationToken cancellationToken) =>
        RunAsync<QueueDeclareOk?>(async (session, ct) =>
        {
            await using var probe = await session.Connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
            try
            {
                return await probe.QueueDeclarePassiveAsync(queue, ct).ConfigureAwait(false);
            }
            catch (OperationInterruptedException e) when (ReplyCode(e) == 404)
            {
                return null;
            }
        }, cancellationToken);

    /// <summary>A joinable queue's unfinished count, summed under its lock as a Join does.</summary>
    private Task<long> UnfinishedAsync(string queue, CancellationToken cancellationToken) =>
        RunAsync(async (session, ct) =>
        {
            await EnsureCountedAsync(session, queue, ct).ConfigureAwait(false);
            return (await ExclusivelyAsync(session, queue, wait: true, () => SumDeltasAsync(session, queue, ct), ct).ConfigureAwait(false)).Result;
        }, cancellationToken);

    /// <summary>The names of the queues in this URL's virtual host, as the management API lists them.</summary>
    private async Task<List<string>> ManagedQueueNamesAsync(CancellationToken cancellationToken)
    {
        var client = _management.Value;
        var path = $"api/queues/{Uri.EscapeDataString(VirtualHost)}?columns=name";
        try
        {
            using var response = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new BrokerException($"The RabbitMQ management API at {client.BaseAddress} refused to list the queues of virtual host " +
                    $"'{VirtualHost}': {(int)response.StatusCode} {response.ReasonPhrase}.");
            }
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var listing = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return [.. listing.RootElement.EnumerateArray().Select(queue => queue.GetProperty("name").GetString()!)];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnavailableException($"The RabbitMQ management API at {client.BaseAddress} did not answer, and AMQP cannot list queues: " +
                $"enable the rabbitmq_management plugin, or give its address as management=http://host:15672 in the URL ({e.Message}).", e);
        }
        catch (JsonException e)
        {
            throw new BrokerException($"The RabbitMQ management API at {client.BaseAddress} answered with something other than a list of queues: {e.Message}", e);
        }
    }

    /// <summary>The URL's virtual host: its path without the first slash, <c>/</c> when empty.</summary>
    private string VirtualHost => _url.Uri.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(_url.Uri.AbsolutePath[1..]) : "/";

    /// <summary>A client of the management API at <paramref name="address"/>, logged in as the AMQP URL is.</summary>
    private HttpClient ManagementClient(Uri address)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        var credentials = $"{_factory.UserName}:{_factory.Password}";
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client;
    }

    /// <summary>Where the management API of an AMQP URL is by default: its host, port 15672 (15671 for amqps).</summary>
    internal static Uri DefaultManagement(BrokerUrl url) =>
        new UriBuilder(url.Scheme == "amqps" ? "https" : "http", url.Uri.Host, url.Scheme == "amqps" ? 15671 : 15672).Uri;
}
