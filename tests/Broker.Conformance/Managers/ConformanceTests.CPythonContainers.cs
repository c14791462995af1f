namespace Broker.Conformance;

using Broker;

/// <summary>CPython's <c>_TestContainers</c>, through a Manager, on every transport that keeps its collections.</summary>
public abstract partial class ConformanceTests
{
    /// <summary>test_list.</summary>
    [Fact]
    public async Task CPython_test_list()
    {
        await using var manager = new Manager(Broker);
        var a = manager.List(Enumerable.Range(0, 10));
        Assert.Equal(Enumerable.Range(0, 10), a.Slice());
        var b = manager.List<int>();
        Assert.Empty(b.Slice());
        b.Extend(Enumerable.Range(0, 5));
        Assert.Equal([0, 1, 2, 3, 4], b.Slice());
        Assert.Equal(2, b[2]);
        Assert.Equal([2, 3, 4], b.Slice(2, 10));
        b.Extend(b.ToArray());
        Assert.Equal([0, 1, 2, 3, 4, 0, 1, 2, 3, 4], b.ToArray());
        Assert.Equal(4, b[-1]);
        b[-1] = 40;
        Assert.Equal([3, 40], b.Slice(-2));
        Assert.Equal(b.ToArray(), b);
    }

    /// <summary>test_dict and test_dict_iter.</summary>
    [Fact]
    public async Task CPython_test_dict()
    {
        await using var manager = new Manager(Broker);
        var d = manager.Dict<int, string>();
        var indices = Enumerable.Range(65, 5).ToList();
        foreach (var i in indices)
        {
            d[i] = ((char)i).ToString();
        }
        Assert.Equal(indices.ToDictionary(i => i, i => ((char)i).ToString()), d.Items().ToDictionary());
        Assert.Equal(indices, d.Keys.Order());
        Assert.Equal(indices.Select(i => ((char)i).ToString()), d.Values.Order());
        Assert.Equal(indices, d.Select(entry => entry.Key).Order());
    }

    /// <summary>test_dict_proxy_nested: a dictionary of dictionaries, changed through the outer one and the inner ones.</summary>
    [Fact]
    public async Task CPython_test_dict_proxy_nested()
    {
        await using var manager = new Manager(Broker);
        var pets = manager.Dict<string, int>();
        pets["ferrets"] = 2;
        pets["hamsters"] = 4;
        var supplies = manager.Dict<string, int>();
        supplies["water"] = 10;
        supplies["feed"] = 3;
        var d = manager.Dict<string, DictProxy<string, int>>();
        d["pets"] = pets;
        d["supplies"] = supplies;
        Assert.Equal(2, d["pets"]["ferrets"]);
        Assert.Equal(3, d["supplies"]["feed"]);

        d["pets"]["marmots"] = 1;
        Assert.Equal(1, pets["marmots"]);
        pets.Clear();
        Assert.Equal(0, d["pets"].Count);
        supplies["water"] = 7;
        Assert.Equal(7, d["supplies"]["water"]);
    }

    /// <summary>test_namespace.</summary>
    [Fact]
    public async Task CPython_test_namespace()
    {
        await using var manager = new Manager(Broker);
        var n = manager.Namespace();
        n.Set("name", "Bob");
        n.Set("job", "Builder");
        Assert.Equal(("Bob", "Builder"), (n.Get<string>("name"), n.Get<string>("job")));
        Assert.True(n.Remove("job"));
        Assert.Equal("Namespace(name=\"Bob\")", n.Repr());
        Assert.Contains("name", n.Attributes());
        Assert.DoesNotContain("job", n.Attributes());
    }
}
