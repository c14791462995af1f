namespace Broker.Conformance;

using Broker;

// A Manager's dictionaries, lists and namespaces, between clients of one broker as between processes.
public abstract partial class ConformanceTests
{
    /// <summary>Names are per kind, as Python's objects have none: a list and a lock of one name keep apart.</summary>
    [Fact]
    public async Task Objects_of_different_kinds_may_share_a_name()
    {
        var name = $"shared-name-{Guid.NewGuid():N}";
        var list = new ListProxy<int>(name, Broker);
        var dict = new DictProxy<string, int>(name, Broker);
        var @lock = new Lock(name: name, broker: Broker);
        var value = new Value<int>(7, name: name, broker: Broker);
        var queue = new Queue<int>(name: name, broker: Broker);
        await list.AppendAsync(1);
        await dict.SetAsync("a", 2);
        Assert.True(await @lock.AcquireAsync(TimeSpan.Zero));
        await queue.PutAsync(3);

        Assert.Equal(1, Assert.Single(await list.SliceAsync()));
        Assert.Equal(2, await dict.GetAsync("a"));
        Assert.True(await @lock.LockedAsync());
        Assert.Equal(7, await value.GetAsync());
        Assert.Equal(3, await queue.GetAsync(Patience));
        await @lock.ReleaseAsync();
    }

    [Fact]
    public async Task A_dict_is_shared_by_clients_and_each_step_is_atomic()
    {
        var dict = new DictProxy<string, int>(broker: Broker);
        var peer = new DictProxy<string, int>(dict.Name, await PeerAsync());
        await dict.SetAsync("a", 1);
        Assert.Equal(1, await peer.GetAsync("a"));
        Assert.Equal((false, 0), await peer.TryGetValueAsync("b"));
        var missing = await Assert.ThrowsAsync<KeyNotFoundException>(() => peer.GetAsync("b").AsTask());
        Assert.Contains(dict.Name, missing.Message);
        Assert.True(await peer.TryAddAsync("b", 2));
        Assert.False(await dict.TryAddAsync("b", 3));
        Assert.Equal(2, await dict.SetDefaultAsync("b", 4));
        Assert.Equal(5, await dict.SetDefaultAsync("c", 5));
        Assert.Equal(3, await peer.CountAsync());
        Assert.Equal(["a", "b", "c"], (await dict.ItemsAsync()).Select(e => e.Key).Order());
        Assert.Equal((true, 5), await peer.TryRemoveAsync("c"));
        Assert.False(await dict.RemoveAsync("c"));
        Assert.False(await dict.ContainsKeyAsync("c"));

        // Updates from two clients at once lose none.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? dict : peer).AddOrUpdateAsync("counter", 1, (_, count) => count + 1).AsTask()));
        Assert.Equal(40, await dict.GetAsync("counter"));

        await peer.ClearAsync();
        Assert.Equal(0, await dict.CountAsync());
    }

    [Fact]
    public async Task A_dict_keys_and_values_travel_as_json_and_a_handle_value_is_a_reference()
    {
        var dict = new DictProxy<int[], List<string>>(broker: Broker);
        dict[[1, 2]] = ["x", "y"];
        Assert.Equal(["x", "y"], dict[[1, 2]]);
        Assert.Equal([1, 2], Assert.Single(dict.Keys));

        var nested = new DictProxy<string, DictProxy<string, int>>(broker: Broker);
        var inner = new DictProxy<string, int>(broker: Broker);
        nested["inner"] = inner;
        nested["inner"]["n"] = 7;
        Assert.Equal(7, inner["n"]);

        var unserializable = Assert.Throws<BrokerSerializationException>(() => new DictProxy<string, object>(broker: Broker)["f"] = new Action(() => { }));
        Assert.StartsWith("A value of dictionary", unserializable.Message);
        var unserializableKey = Assert.Throws<BrokerSerializationException>(() => new DictProxy<object, int>(broker: Broker)[new Action(() => { })] = 1);
        Assert.StartsWith("A key of dictionary", unserializableKey.Message);
    }

    [Fact]
    public async Task A_list_appends_indexes_from_either_end_and_slices_as_Python_does()
    {
        var list = new ListProxy<int>(broker: Broker);
        var peer = new ListProxy<int>(list.Name, await PeerAsync());
        await list.AppendAsync(1);
        await peer.ExtendAsync([2, 3, 4]);
        Assert.Equal(4, await list.CountAsync());
        Assert.Equal(1, await peer.GetAsync(0));
        Assert.Equal(4, await peer.GetAsync(-1));
        await list.SetAsync(-2, 30);
        Assert.Equal([1, 2, 30, 4], peer.ToArray());
        Assert.Equal(new[] { 2, 30 }, await peer.SliceAsync(1, 3));
        Assert.Equal(new[] { 30, 4 }, await peer.SliceAsync(-2));
        Assert.Equal(new[] { 1, 2, 30, 4 }, await peer.SliceAsync(-10, 10));
        Assert.Empty(await peer.SliceAsync(3, 1));
        var outOfRange = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => list.GetAsync(4).AsTask());
        Assert.Contains(list.Name, outOfRange.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => list.SetAsync(-5, 0).AsTask());
        await list.ClearAsync();
        Assert.Equal(0, peer.Count);
    }

    [Fact]
    public async Task A_namespace_has_named_typed_attributes()
    {
        var ns = new NamespaceProxy(broker: Broker);
        var peer = new NamespaceProxy(ns.Name, await PeerAsync());
        ns.Set("x", 10);
        ns.Set("label", "ten");
        Assert.Equal(10, peer.Get<int>("x"));
        Assert.Equal("ten", peer.Get<string>("label"));
        Assert.Equal(["label", "x"], peer.Attributes());
        Assert.Equal("Namespace(label=\"ten\", x=10)", peer.Repr());
        Assert.True(peer.Remove("x"));
        var missing = Assert.Throws<KeyNotFoundException>(() => ns.Get<int>("x"));
        Assert.Contains("no attribute 'x'", missing.Message);
    }

    [Fact]
    public async Task A_manager_makes_shared_objects_and_its_shutdown_empties_its_collections()
    {
        DictProxy<string, int> dict;
        ListProxy<string> list;
        await using (var manager = new Manager(Broker))
        {
            dict = manager.Dict<string, int>();
            list = manager.List(["a"]);
            var queue = manager.Queue<int>();
            await queue.PutAsync(1);
            Assert.Equal(1, await queue.GetAsync());
            var value = manager.Value(5);
            Assert.Equal(6, await value.AddAsync(1));
            dict["k"] = 1;
            Assert.Equal(["a"], list.ToArray());
        }
        Assert.Throws<ObjectDisposedException>(() => dict["k"]);
        Assert.Equal(0, await new DictProxy<string, int>(dict.Name, Broker).CountAsync());
        Assert.Equal(0, await new ListProxy<string>(list.Name, Broker).CountAsync());
    }
}
